"""``python -m engine.export_onnx MODEL --out DIR``: the model as ONNX, to render without torch.

MODEL is a model file, a project (its model, else the built-in one) or ``builtin``. DIR gets one
graph per piece of h, so that a program can keep latents as the Director does, and the whole of h
in one graph:

    f_c.onnx        image (N, 3, S, S) → z (N, C, L, L)         the character encoder
    f_b.onnx        image → z                                    the background encoder
    transform.onnx  z_t1, z_t2 → theta (N, 2, 3)                 T^Z
    compose.onnx    z_c, theta, z_b → image                      g(theta ∘ z_c + z_b); z_b = 0
                                                                 renders the character alone
    render.onnx     x_c, x_t1, x_t2, x_b → image, theta          h, whole
    model.json      sizes, names, the theta convention, opset, what was verified

Images are float32 RGB in [0, 1], NCHW, at the model's square size S; the batch is dynamic.
theta follows engine.model's convention (its docstring): output → input coordinates in the
normalised [-1, 1] space, ``align_corners=False``. The warp is 4-D GridSample (opset 16) with
the sampling grid built from theta by a matrix product, so any runtime with opset 16 runs it (no
AffineGrid, which needs opset 20; no 5-D grid_sample, which blocks LivePortrait's export).
The pixels renderer's warp is no network step (OpenCV's warpAffine of the matrix
engine.geometry.theta_to_pixels gives), so there is nothing of it to export.

With onnxruntime installed, each graph is run against torch on the same random inputs and
must agree within 1/255 on every image value (``--no-check`` skips it); model.json records the
largest difference found. Needs the ``onnx`` package (``pip install 'zoetrope-studio[onnx]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine import checkpoint
from engine.errors import UserError
from engine.fileio import atomic_write_text, remove_stale_temporaries, temporary_path
from engine.model import SceneModel

OPSET = 17
TOLERANCE = 1 / 255  # per image value in [0, 1]: no visible difference in an 8-bit frame
GRAPHS = ("f_c", "f_b", "transform", "compose", "render")


def _grid(theta: torch.Tensor, size: int) -> torch.Tensor:
    """F.affine_grid(theta, (N, C, size, size), align_corners=False) as a matrix product: cell
    centres (2i + 1) / size − 1 in x and y, times theta (exported as MatMul, not AffineGrid)."""
    c = (torch.arange(size, dtype=theta.dtype) * 2 + 1) / size - 1
    y, x = torch.meshgrid(c, c, indexing="ij")
    base = torch.stack([x, y, torch.ones_like(x)], dim=-1).reshape(1, size * size, 3)
    return (base @ theta.transpose(1, 2)).reshape(-1, size, size, 2)


def _compose(model: SceneModel, z_c, theta, z_b):
    grid = _grid(theta.to(z_c.dtype), z_c.shape[-1])
    moved = F.grid_sample(z_c, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return model.g(moved + z_b)


class _Pool(nn.Module):
    """AdaptiveAvgPool2d from ``size`` to ``out`` cells as two fixed matrices (ONNX has no
    adaptive pooling where the sizes are not multiples: a small model's 2×2 features pooled
    "up" to 4×4 would not export)."""

    def __init__(self, size: int, out: int) -> None:
        super().__init__()
        m = torch.zeros(out, size)
        for i in range(out):  # torch's bins: [floor(i·n/m), ceil((i+1)·n/m))
            lo, hi = (i * size) // out, -((-(i + 1) * size) // out)
            m[i, lo:hi] = 1 / (hi - lo)
        self.register_buffer("m", m)

    def forward(self, x):
        return self.m @ x @ self.m.T


class Transform(nn.Module):
    """T^Z with its adaptive pooling as matrices (:class:`_Pool`), for latents of ``size``."""

    def __init__(self, model: SceneModel) -> None:
        super().__init__()
        t, c, n = model.transform, model.config.latent_channels, model.config.latent_size
        layers = []
        with torch.no_grad():
            x = torch.zeros(1, 2 * c, n, n)
            for layer in t.features:
                if isinstance(layer, nn.AdaptiveAvgPool2d):
                    layer = _Pool(x.shape[-1], layer.output_size)
                x = layer(x)
                layers.append(layer)
        self.features, self.head = nn.Sequential(*layers), t.head

    def forward(self, z1, z2):
        return self.head(self.features(torch.cat([z1, z2], dim=1))).view(-1, 2, 3)


class Compose(nn.Module):
    def __init__(self, model: SceneModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, z_c, theta, z_b):
        return _compose(self.model, z_c, theta, z_b)


class Render(nn.Module):
    def __init__(self, model: SceneModel) -> None:
        super().__init__()
        self.model, self.transform = model, Transform(model)

    def forward(self, x_c, x_t1, x_t2, x_b):
        m = self.model
        theta = self.transform(m.f_c(x_t1), m.f_c(x_t2))
        return _compose(m, m.f_c(x_c), theta, m.f_b(x_b)), theta


def _pieces(model: SceneModel):
    """(name, module, example inputs, input names, output names, reference) of each graph; the
    reference is the model's own code (F.affine_grid: the exported grid is checked against it)."""
    s, gen = model.config.image_size, torch.Generator().manual_seed(0)
    image = lambda: torch.rand(2, 3, s, s, generator=gen)  # noqa: E731
    with torch.no_grad():
        z = model.f_c(image())
    theta = torch.tensor([[[0.9, 0.15, 0.1], [-0.1, 1.05, -0.05]],
                          [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # fmt: skip
    return [
        ("f_c", model.f_c, (image(),), ["image"], ["z"], model.f_c),
        ("f_b", model.f_b, (image(),), ["image"], ["z"], model.f_b),
        ("transform", Transform(model), (z, z.flip(0)), ["z_t1", "z_t2"], ["theta"],
         model.transform),
        ("compose", Compose(model), (z, theta, z.flip(0)), ["z_c", "theta", "z_b"], ["image"],
         model.compose),
        ("render", Render(model), tuple(image() for _ in range(4)),
         ["x_c", "x_t1", "x_t2", "x_b"], ["image", "theta"], model.render),
    ]  # fmt: skip


MANIFEST = "model.json"
FILES = (MANIFEST, *(f"{g}.onnx" for g in GRAPHS))
"""What an export writes into its folder: the only files it may ever replace there."""


def plan(out: str | Path, overwrite: bool = False) -> list[Path]:
    """The files of an earlier export in ``out`` that an export there replaces (with
    ``overwrite``), or a UserError saying why it may not go there — engine.export's rule: a
    folder that is new or empty, or holds an earlier export of ours (its model.json says so and
    names its graphs); a file, or a folder holding anything else, is refused."""
    from engine.export import SYSTEM_FILES

    out = Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file; --out names a folder for the graphs")
    if not out.exists():
        if not out.parent.is_dir():
            raise UserError(f"{out.parent}: folder does not exist")
        return []
    try:
        names = set(os.listdir(out)) - SYSTEM_FILES
    except OSError as e:
        raise UserError(f"{out}: cannot read the folder ({e.strerror})") from None
    ours: set[str] = set()
    if MANIFEST in names:
        try:
            doc = json.loads((out / MANIFEST).read_text("utf-8"))
            if doc.get("format") == "zoetrope-onnx":
                ours = {MANIFEST} | {g.get("file") for g in doc.get("graphs", {}).values()}
        except (OSError, ValueError, AttributeError):
            pass
    foreign = sorted(names - ours)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3
                                          else "")  # fmt: skip
        raise UserError(f"{out}: holds files that are not an earlier ONNX export ({shown}); "
                        f"choose a new or empty folder, e.g. {out / 'onnx'}")
    replaced = [out / n for n in sorted(names)]
    if replaced and not overwrite:
        raise UserError(f"{out}: holds an earlier ONNX export; choose another folder or allow "
                        "replacing it (--overwrite)")  # fmt: skip
    return replaced


def export(model: SceneModel, out: str | Path, check: bool = True, opset: int = OPSET,
           overwrite: bool = False) -> dict:  # fmt: skip
    """Write the graphs and model.json to the folder ``out`` (:func:`plan`: an earlier export
    there is replaced only with ``overwrite``, nothing else ever); with ``check``, compare each
    with torch through onnxruntime (skipped, and said so, where it is not installed). Written
    beside the folder and moved in when every graph is there and checked: a failure leaves the
    folder as it was. Returns the manifest written to model.json."""
    try:
        import onnx  # noqa: F401 — torch.onnx needs it; say so plainly if it is missing
    except ImportError:
        raise UserError(
            "exporting ONNX needs the onnx package: pip install "
            "'zoetrope-studio[onnx]' (or pip install onnx onnxruntime)"
        ) from None
    out = Path(out).absolute()
    replaced = plan(out, overwrite)
    remove_stale_temporaries(out, ".part")  # what an export that was killed left beside it
    tmp = temporary_path(out, ".part")
    try:
        tmp.mkdir()
        manifest = _write(model, tmp, check, opset)
        plan(out, overwrite)  # the folder may have changed meanwhile: look again
        if out.is_dir():
            for old in replaced:
                old.unlink(missing_ok=True)
            for f in sorted(tmp.iterdir()):
                os.replace(f, out / f.name)
            tmp.rmdir()
        else:
            os.replace(tmp, out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(f"{out}: cannot write the export there ({e.strerror or e})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _write(model: SceneModel, out: Path, check: bool, opset: int) -> dict:
    model = model.float().eval()
    cfg = model.config
    latent = [cfg.latent_channels, cfg.latent_size, cfg.latent_size]
    manifest = {
        "format": "zoetrope-onnx", "version": 1, "opset": opset,
        "image_size": cfg.image_size, "latent": latent,
        "images": "float32 RGB in [0, 1], NCHW; the batch (N) is dynamic",
        "theta": "output → input coordinates in normalised [-1, 1] space, align_corners=False "
                 "(engine/model.py); warp = GridSample(z, base_grid @ thetaᵀ), bilinear, zeros",
        "graphs": {},
    }  # fmt: skip
    ort = _onnxruntime() if check else None
    for name, module, inputs, names, outputs, reference in _pieces(model):
        path = out / f"{name}.onnx"
        axes = {k: {0: "n"} for k in (*names, *outputs)}
        with warnings.catch_warnings():  # the TorchScript exporter is deprecated, not gone
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                inputs,
                str(path),
                opset_version=opset,
                dynamo=False,
                input_names=names,
                output_names=outputs,
                dynamic_axes=axes,
            )
        entry = {"file": path.name, "inputs": names, "outputs": outputs}
        if ort is not None:
            entry["max_difference"] = compare(ort, path, reference, inputs, names)
            if not entry["max_difference"] <= TOLERANCE:  # (NaN is no pass)
                raise UserError(f"{name}.onnx: ONNX and torch differ by "
                                f"{entry['max_difference']:.4f} (more than 1/255) on the same "
                                "inputs")  # fmt: skip
        manifest["graphs"][name] = entry
    manifest["checked_with"] = f"onnxruntime {ort.__version__}" if ort is not None else None
    manifest["checked"] = "yes" if ort is not None else ("no: --no-check" if not check else
                                                         "no: onnxruntime is not installed")
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime


def compare(ort, path: Path, reference, inputs: tuple, names: list[str]) -> float:
    """The largest absolute difference between onnxruntime's outputs of ``path`` and the torch
    model's (``reference``) on ``inputs`` (a batch of 2: the dynamic axis is exercised)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {n: x.numpy() for n, x in zip(names, inputs, strict=True)})
    with torch.no_grad():
        want = reference(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    return max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want, strict=True))


def resolve(source: str) -> Path:
    """A model file from MODEL: a file, 'builtin', or a project (its model, else the built-in)."""
    if source == "builtin":
        return checkpoint.BUILTIN_MODEL
    path = Path(source)
    if path.is_dir() or path.name == "project.json":
        from engine.document import Project
        from engine.frames.director import resolve_model

        return resolve_model(Project.open(path))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m engine.export_onnx",
        description="Export a Zoetrope model to ONNX (f_c, f_b, T^Z, g).",
    )
    p.add_argument("model", help="a model file (.safetensors), a project folder, or 'builtin'")
    p.add_argument("--out", required=True, help="folder for the .onnx files and model.json")
    p.add_argument(
        "--opset", type=int, default=OPSET, help=f"ONNX opset, 16 or later (default {OPSET})"
    )
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="do not compare with torch through onnxruntime")  # fmt: skip
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier ONNX export in --out (never any other file)")
    args = p.parse_args(argv)
    try:
        if args.opset < 16:
            raise UserError(f"--opset {args.opset}: GridSample needs opset 16 or later")
        plan(args.out, args.overwrite)  # before the model loads: a refusal at once
        model, info = checkpoint.load(resolve(args.model))
        manifest = export(model, args.out, args.check, args.opset, args.overwrite)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    checked = manifest["checked_with"]
    worst = max((g.get("max_difference", 0) for g in manifest["graphs"].values()), default=0)
    print(f"wrote {len(GRAPHS)} graphs of {info.path.name} to {args.out} (opset {args.opset}); "
          + (f"checked with {checked}: largest difference from torch {worst:.2e}" if checked else
             f"not checked ({manifest['checked'].removeprefix('no: ')})"),
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
