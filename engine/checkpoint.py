"""Model files: one ``.safetensors`` file, weights plus a JSON header. Loading never unpickles.

Header (safetensors metadata, string values):
  ``format``          "zoetrope-model"
  ``format_version``  "1"
  ``model_config``    JSON of :class:`engine.model.ModelConfig`
  ``training``        JSON: steps, image size, data summary, engine version, created, …
  ``training_state``  present only in training checkpoints (JSON: step, optimiser groups, RNG)

Weights are stored under ``model.*``; a training checkpoint adds ``optim.*`` (optimiser state)
and ``rng.*`` tensors, so a single file both renders and resumes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from engine import __version__
from engine.assets import BUILTIN_MODEL  # noqa: F401 — checkpoint.BUILTIN_MODEL is API
from engine.errors import CheckpointError
from engine.fileio import atomic_path, parse_json
from engine.model import ModelConfig, SceneModel

FORMAT = "zoetrope-model"
FORMAT_VERSION = 1
"""The model that ships with the app (trained on the demo kit, docs/RESULTS.md): used by a
project without a model of its own, and the usual starting point for fine-tuning
(``engine.train --init builtin``)."""


@dataclass
class ModelFile:
    """What a model file says about itself, read without loading the weights."""

    path: Path
    config: ModelConfig
    training: dict
    has_training_state: bool


def utf8_path(path: str | os.PathLike) -> str:
    """A path safetensors can open: it takes UTF-8 only (Rust), so a file in a folder whose name's
    bytes are not (an old drive's ``Straße`` in Latin-1) is reached through a link of its own
    in a folder that is (links of gone processes' are removed by the next)."""
    path = os.path.abspath(path)
    try:
        os.fsencode(path).decode("utf-8")
        return path
    except UnicodeDecodeError:
        pass
    import hashlib
    import tempfile

    from engine.fileio import alive

    folder = Path(tempfile.gettempdir()) / "zoetrope-links"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.safetensors"):  # those of processes that are gone
        pid = old.name.split("-")[0]
        if pid.isdigit() and not alive(int(pid)):
            old.unlink(missing_ok=True)
    name = hashlib.sha1(os.fsencode(path)).hexdigest()[:16]
    link = folder / f"{os.getpid()}-{name}.safetensors"
    if not link.is_symlink():
        with contextlib.suppress(FileExistsError):
            os.symlink(path, link)
    return str(link)


def _cpu(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").contiguous()


def unwrap(model: torch.nn.Module) -> SceneModel:
    """The SceneModel inside a DistributedDataParallel (or compiled) wrapper."""
    while hasattr(model, "module"):
        model = model.module
    return getattr(model, "_orig_mod", model)


def save(
    path: str | os.PathLike,
    model: torch.nn.Module,
    training: dict,
    optimizer: torch.optim.Optimizer | None = None,
    training_state: dict | None = None,
) -> Path:
    """Write a model (and, with ``optimizer``, the state to resume training) atomically."""
    model = unwrap(model)
    tensors = {f"model.{k}": _cpu(v) for k, v in model.state_dict().items()}
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "model_config": json.dumps(model.config.to_dict()),
        "training": json.dumps({"engine_version": __version__, **training}),
    }
    if optimizer is not None:
        opt_state = optimizer.state_dict()
        scalars: dict[str, dict] = {}
        for idx, state in opt_state["state"].items():
            for key, value in state.items():
                if torch.is_tensor(value):
                    tensors[f"optim.{idx}.{key}"] = _cpu(value)
                else:
                    scalars.setdefault(str(idx), {})[key] = value
        state = dict(training_state or {})
        rng = state.pop("torch_rng", None)
        if rng is not None:
            tensors["rng.torch"] = _cpu(rng)
        state["optimizer"] = {"param_groups": opt_state["param_groups"], "scalars": scalars}
        meta["training_state"] = json.dumps(state)
    path = Path(path)
    with atomic_path(path) as tmp:
        try:
            save_file(tensors, utf8_path(tmp), metadata=meta)
        except SafetensorError as e:  # the disk, almost always: say it as the OS would
            code = re.search(r"os error (\d+)", str(e))
            if code:
                raise OSError(int(code[1]), os.strerror(int(code[1])), str(path)) from None
            raise CheckpointError(f"{path}: cannot write the model ({e})") from None
    return path


def _open_header(path: Path) -> dict:
    if not path.exists():
        raise CheckpointError(f"{path}: model file not found")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a .safetensors model file")
    try:
        with safe_open(utf8_path(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable safetensors file ({e})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Zoetrope model (no '{FORMAT}' header)")
    raw = meta.get("format_version", "0")
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit()):
        raise CheckpointError(f"{path}: damaged model header (format_version {raw[:20]!r} is "
                              "not a number)")  # fmt: skip
    version = int(raw)
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: made by a newer Zoetrope (model format {version}); please update"
        )
    return meta


def inspect(path: str | os.PathLike) -> ModelFile:
    """Read a model file's header: config and training metadata."""
    path = Path(path)
    meta = _open_header(path)
    try:
        config = ModelConfig.from_dict(parse_json(meta["model_config"]))
        training = parse_json(meta.get("training", "{}"))
        if not isinstance(training, dict):
            raise ValueError("training: expected an object")
    except KeyError as e:
        raise CheckpointError(f"{path}: damaged model header (no {e})") from None
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: damaged model header ({e})") from None
    trained = training.get("image_size")
    if trained is not None and trained != config.image_size:
        raise CheckpointError(f"{path}: damaged model header (its config says image_size "
                              f"{config.image_size}, but it was trained at {trained!r})")
    return ModelFile(path, config, training, "training_state" in meta)


FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})


def verify(path: str | os.PathLike, values: bool = True) -> ModelFile:
    """:func:`inspect`, plus a check that the file holds exactly the weights its config needs,
    in the right shapes and of a float type, and (``values``) that every one is a finite number
    — how a model is vetted before a project uses it: weights of NaN rendered an MP4 of garbage
    and exported to ONNX with "largest difference nan", both called a success."""
    info = inspect(path)
    with torch.device("meta"):  # shapes only: no memory for the weights
        expected = {k: tuple(v.shape) for k, v in SceneModel(info.config).state_dict().items()}
    try:
        with safe_open(utf8_path(info.path), framework="pt") as f:
            slices = {k[6:]: f.get_slice(k) for k in f.keys()  # noqa: SIM118
                      if k.startswith("model.")}  # fmt: skip
            found = {k: tuple(v.get_shape()) for k, v in slices.items()}
            types = {k: v.get_dtype() for k, v in slices.items()}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{info.path}: damaged model file ({e})") from None
    problem = _weights_problem(expected, found)
    if problem:
        raise CheckpointError(f"{info.path}: weights do not match its model config ({problem})")
    odd = sorted(k for k, t in types.items() if t not in FLOAT_DTYPES)
    if odd:
        raise CheckpointError(f"{info.path}: damaged model file ({len(odd)} weights are not "
                              f"numbers with a fraction, e.g. {odd[0]} is {types[odd[0]]})")
    if values:
        _check_finite(info.path, _read_tensors(info.path, "model."))
    return info


def _check_finite(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    bad = sorted(k for k, t in tensors.items() if not bool(torch.isfinite(t).all()))
    if bad:
        raise CheckpointError(f"{path}: damaged model file ({len(bad)} weights hold NaN or "
                              f"infinity, e.g. {bad[0]}): it cannot render")


def _weights_problem(expected: dict[str, tuple], found: dict[str, tuple]) -> str | None:
    def some(keys: list[str]) -> str:
        return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")

    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    shapes = [k for k in sorted(set(expected) & set(found)) if expected[k] != found[k]]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing: {some(missing)}")
    if extra:
        parts.append(f"{len(extra)} unexpected: {some(extra)}")
    if shapes:
        k = shapes[0]
        parts.append(f"{len(shapes)} of the wrong shape, e.g. {k} is {list(found[k])} in the file "
                     f"but {list(expected[k])} for its config")  # fmt: skip
    return "; ".join(parts) or None


def _read_tensors(path: Path, prefix: str) -> dict[str, torch.Tensor]:
    try:
        with safe_open(utf8_path(path), framework="pt") as f:
            keys = [k for k in f.keys() if k.startswith(prefix)]  # noqa: SIM118
            return {k[len(prefix) :]: f.get_tensor(k) for k in keys}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: damaged model file ({e})") from None


def load(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[SceneModel, ModelFile]:
    """Build the model a file describes and load its weights. Clear errors, never unpickles."""
    info = verify(path, values=False)
    tensors = _read_tensors(info.path, "model.")
    _check_finite(info.path, tensors)
    model = SceneModel(info.config)
    model.load_state_dict(tensors, strict=True)
    return model.to(device), info


def load_training_state(path: str | os.PathLike, optimizer: torch.optim.Optimizer) -> dict:
    """Restore the optimiser from a training checkpoint; return the rest of the saved state
    (step, sampler state, …) with the torch RNG state under ``torch_rng``."""
    path = Path(path)
    meta = _open_header(path)
    if "training_state" not in meta:
        raise CheckpointError(f"{path}: holds a model only, no training state to resume from")
    tensors = _read_tensors(path, "optim.")
    try:
        state = parse_json(meta["training_state"])
        opt = state.pop("optimizer")
        per_param: dict[int, dict] = {}
        for key, value in tensors.items():
            idx, name = key.split(".", 1)
            per_param.setdefault(int(idx), {})[name] = value
        for idx, scalars in opt["scalars"].items():
            per_param.setdefault(int(idx), {}).update(scalars)
        groups = opt["param_groups"]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{path}: damaged training state ({e!r})") from None
    try:
        optimizer.load_state_dict({"state": per_param, "param_groups": groups})
    except (ValueError, KeyError) as e:
        raise CheckpointError(f"{path}: optimiser state does not fit this model ({e})") from None
    rng = _read_tensors(path, "rng.")
    if "torch" in rng:
        state["torch_rng"] = rng["torch"]
    return state
