"""Training: ``python -m engine.train`` — clips (or synthetic data) in, a model file out.

Data path role: pair sampler → model → checkpoint. Read top to bottom: settings, data, model,
optimiser, loop (losses, logging, samples, checkpoints), the end. The studio runs this same
module as a child process with ``--progress json`` (protocol: docs/TRAINING.md).

Under ``torchrun --nproc_per_node N -m engine.train …`` each process trains on its own pairs with
DistributedDataParallel (engine.distributed); rank 0 alone writes files and reports.

Length: one run read top to bottom, as nanoGPT's train.py reads: settings, data, model,
optimiser, loop, the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from engine import checkpoint, distributed
from engine import device as devices
from engine.data.cache import FrameCache
from engine.data.clips import FIT_MODES, find_clips
from engine.data.mnist import load_mnist
from engine.data.sampler import MovingMNISTPairs, PairSampler, Prefetcher
from engine.data.synthetic import MovingMNIST, make_backgrounds
from engine.distributed import Dist
from engine.errors import ClipError, UserError, one_line
from engine.fileio import atomic_write_text, parse_json
from engine.model import ModelConfig, SceneModel, total_loss
from engine.progress import MODES, Reporter
from engine.run_dir import RunDir
from engine.samples import sample_grid, to_tensor

SYNTHETIC = ("moving-mnist",)
SAMPLE_PAIRS = 8
LOGGED_TERMS = ("scene", "equiv", "inv", "ident", "fc_scale", "fb_scale")
# Left unset, warm-up and sample grids scale with the run: a 150-step fine-tune warms up for 15
# steps (not 100 of its 150) and shows a grid every 25 steps (not only at the end).
WARMUP_STEPS, WARMUP_FRACTION = 100, 0.1  # warm up for 100 steps or a tenth of the run: the shorter
SAMPLE_EVERY, SAMPLES_PER_RUN = 250, 6  # a grid every 250 steps and at each sixth of the run


@dataclass
class TrainConfig:
    out: str = ""
    data: list[str] = field(default_factory=list)
    synthetic: str | None = None
    mnist: str | None = None
    steps: int | None = 2000
    time_budget: float | None = None  # minutes
    batch_size: int = 32
    lr: float = 1e-3
    warmup_steps: int | None = None  # None: scaled to the run (WARMUP_*)
    clip_grad: float = 0.0  # max global gradient norm; 0 = no clipping
    image_size: int = 64
    fit: str = "stretch"
    widths: tuple[int, ...] = (32, 64)
    latent_channels: int = 64
    res_blocks: int = 2
    # Measured (docs/RESULTS.md): the scale-invariant L_equiv hurt at every weight tried, and
    # L_inv at 0.01 gave the cleanest separation; the paper does not give its weights.
    alpha_equiv: float = 0.0
    alpha_inv: float = 0.01
    # Measured (docs/RESULTS.md): halves the Transformation error at the same budget
    alpha_ident: float = 1.0
    aux_loss: str = "relative"
    max_gap: int = 4
    # Measured (docs/RESULTS.md): leaves the "blurred copy" plateau several times sooner
    change_weight: float = 10.0
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    init: str | None = None
    resume: bool = False
    log_every: int = 10
    sample_every: int | None = None  # None: scaled to the run (SAMPLE_*)
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    progress: str = "bar"
    cache_dir: str | None = None
    compile: bool = False

    def model_config(self) -> ModelConfig:
        return ModelConfig(
            image_size=self.image_size,
            widths=tuple(self.widths),
            latent_channels=self.latent_channels,
            res_blocks=self.res_blocks,
        )


# Settings a resumed run takes from the command line rather than from the saved run.
RUNTIME_SETTINGS = frozenset(
    {
        "steps",
        "time_budget",
        "device",
        "progress",
        "log_every",
        "sample_every",
        "checkpoint_every",
        "keep_checkpoints",
        "cache_dir",
        "resume",
        "out",
    }
)


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m engine.train",
        description="Train the equivariant scene model (background, character, motion) on clips.",
        argument_default=argparse.SUPPRESS,
    )
    src = p.add_argument_group("data")
    src.add_argument(
        "--data",
        nargs="+",
        metavar="PATH",
        help="video files (mp4 mov avi mkv webm gif), folders of numbered png/jpg "
        "frames, or folders holding either",
    )
    src.add_argument(
        "--synthetic",
        choices=SYNTHETIC,
        help="train on generated data instead: the paper's Moving MNIST",
    )
    src.add_argument("--mnist", metavar="DIR", help="MNIST folder for --synthetic moving-mnist")
    src.add_argument(
        "--fit",
        choices=FIT_MODES,
        help=f"how frames become the model's square: stretch the whole frame, crop the centre or "
        f"letterbox (default {d.fit})",
    )
    src.add_argument(
        "--cache-dir", metavar="DIR", help="decoded-frame cache (default: the user cache dir)"
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="RUN_DIR",
        help="run folder: model.safetensors, checkpoints/, samples/, metrics.jsonl",
    )
    t = p.add_argument_group("training")
    t.add_argument(
        "--steps",
        type=int,
        help=f"optimiser steps (default {d.steps}; 0 = no limit when --time-budget is set)",
    )
    t.add_argument(
        "--time-budget",
        type=float,
        metavar="MINUTES",
        help="stop after this much training time; the learning-rate schedule follows it",
    )
    t.add_argument("--batch-size", type=int, help=f"pairs per step (default {d.batch_size})")
    t.add_argument("--lr", type=float, help=f"peak learning rate, Adam (default {d.lr})")
    t.add_argument(
        "--warmup-steps",
        type=int,
        help=f"steps of linear warm-up (default: {WARMUP_STEPS} or the run's first "
        f"{WARMUP_FRACTION * 100:.0f}%%, whichever is shorter)",
    )
    t.add_argument(
        "--clip-grad",
        type=float,
        metavar="NORM",
        help="clip the global gradient norm to NORM before each step (default 0: off); 1 keeps "
        "a run at a high learning rate from diverging",
    )
    t.add_argument(
        "--alpha-equiv",
        type=float,
        help=f"weight of the equivariance loss (default {d.alpha_equiv})",
    )
    t.add_argument(
        "--alpha-inv",
        type=float,
        help=f"weight of the background invariance loss (default {d.alpha_inv})",
    )
    t.add_argument(
        "--alpha-ident",
        type=float,
        help="weight of L_ident = ‖T^Z(f_c(x1), f_c(x1)) − I‖²: a frame against itself shows no "
        f"motion, so f_c must place the character where it is (default {d.alpha_ident:g})",
    )
    t.add_argument(
        "--aux-loss",
        choices=("relative", "plain"),
        help="relative: L_equiv and L_inv divided by each feature channel's variance "
        "(scale-invariant; default); plain: the paper's L2",
    )
    t.add_argument(
        "--max-gap",
        type=int,
        help=f"largest frame distance within a training pair (default {d.max_gap})",
    )
    t.add_argument(
        "--change-weight",
        type=float,
        help="weigh each pixel's scene error by 1 + λ·|x2 − x1| (what moved counts more; "
        f"0 = the paper's plain MSE; default {d.change_weight:g})",
    )
    t.add_argument("--seed", type=int, help=f"random seed (default {d.seed})")
    m = p.add_argument_group("model")
    m.add_argument(
        "--image-size",
        type=int,
        help=f"model resolution, a multiple of 16 (default {d.image_size})",
    )
    m.add_argument(
        "--widths",
        type=lambda s: tuple(int(v) for v in s.split(",")),
        help="channels per encoder stage, comma separated (default 32,64)",
    )
    m.add_argument("--latent-channels", type=int, help=f"default {d.latent_channels}")
    m.add_argument("--res-blocks", type=int, help=f"per encoder stage (default {d.res_blocks})")
    m.add_argument(
        "--init",
        metavar="CKPT",
        help="start from this model file (fine-tuning), or 'builtin' for the model that ships "
        "with the app; its architecture is used, and its image size unless --image-size is "
        "given (the weights work at any size)",
    )
    m.add_argument(
        "--resume",
        action="store_true",
        help="continue RUN_DIR from its latest checkpoint: same step, optimiser, RNG",
    )
    r = p.add_argument_group("runtime")
    r.add_argument(
        "--device",
        choices=devices.DEVICES,
        help="auto: CUDA, then Apple MPS, else CPU (default auto)",
    )
    r.add_argument(
        "--precision",
        choices=devices.PRECISIONS,
        help="auto: bf16 where it is faster (CUDA, CPUs with AMX), else fp32",
    )
    r.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the model: faster steps after a slow first one; needs a "
        "C/C++ compiler on CPU (docs/PERFORMANCE.md)",
    )
    r.add_argument("--log-every", type=int, help=f"steps between metrics (default {d.log_every})")
    r.add_argument(
        "--sample-every",
        type=int,
        help=f"steps between sample grids (default: every {SAMPLE_EVERY} steps and at each "
        f"1/{SAMPLES_PER_RUN} of the run; 0 = end only)",
    )
    r.add_argument(
        "--checkpoint-every",
        type=int,
        help=f"steps between checkpoints (default {d.checkpoint_every}; 0 = end only)",
    )
    r.add_argument(
        "--keep-checkpoints",
        type=int,
        help=f"periodic checkpoints kept (default {d.keep_checkpoints})",
    )
    r.add_argument(
        "--progress",
        choices=MODES,
        help="bar: for people; json: one event per line for programs (default bar)",
    )
    return p


PATH_SETTINGS = ("data", "mnist", "init", "cache_dir")


def _absolute(key: str, value):
    """Path settings as absolute paths (how config.json stores them)."""
    if key not in PATH_SETTINGS or not value:
        return value
    if key == "data":
        return [str(Path(p).resolve()) for p in value]
    return str(Path(value).resolve())


def _comparable(key: str, value):
    value = _absolute(key, value)
    return tuple(value) if isinstance(value, list) else value


def config_from_args(argv: list[str] | None) -> TrainConfig:
    given = vars(build_parser().parse_args(argv))
    if given.get("init") == "builtin":
        given["init"] = str(checkpoint.BUILTIN_MODEL)
    base = dataclasses.asdict(TrainConfig())
    if given.get("resume"):
        saved = Path(given["out"]) / "config.json"
        if not saved.is_file():
            raise UserError(f"{saved}: nothing to resume (no config.json in the run folder)")
        try:
            base.update(parse_json(saved.read_text())["train"])
        except (ValueError, KeyError, TypeError) as e:
            raise UserError(f"{saved}: damaged run config ({e!r})") from None
        ignored = [
            k
            for k in given
            if k not in RUNTIME_SETTINGS and _comparable(k, given[k]) != _comparable(k, base.get(k))
        ]
        if ignored:
            raise UserError(
                "--resume continues the saved run; these settings cannot change: "
                + ", ".join("--" + k.replace("_", "-") for k in sorted(ignored))
            )
    base.update(given)
    base["widths"] = tuple(base["widths"])
    if given.get("init") and "image_size" not in given and not given.get("resume"):
        base["image_size"] = checkpoint.inspect(given["init"]).config.image_size
    cfg = TrainConfig(**base)
    if cfg.steps == 0:
        cfg.steps = None
    return cfg


def validate(cfg: TrainConfig) -> None:
    if bool(cfg.data) == bool(cfg.synthetic):
        raise UserError("give either --data PATH... or --synthetic moving-mnist")
    if cfg.synthetic and not cfg.mnist:
        raise UserError("--synthetic moving-mnist needs --mnist DIR (a folder of MNIST files)")
    if cfg.steps is None and not cfg.time_budget:
        raise UserError("--steps 0 means no step limit, so --time-budget is required")
    for name in ("batch_size", "log_every"):
        if getattr(cfg, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    if cfg.steps is not None and cfg.steps < 0:
        raise UserError("--steps must not be negative")
    if cfg.lr <= 0:
        raise UserError("--lr must be positive")
    if cfg.clip_grad < 0:
        raise UserError("--clip-grad must be 0 (off) or positive")
    if cfg.change_weight < 0:
        raise UserError("--change-weight must not be negative")
    run = RunDir(cfg.out)
    if not cfg.resume and run.has_run and run.has_results:
        raise UserError(
            f"{cfg.out}: already holds a training run; add --resume to continue it, "
            "or choose another --out"
        )
    if cfg.image_size < 16 or cfg.image_size % 16:
        raise UserError(f"--image-size must be a multiple of 16 (got {cfg.image_size})")


# ---------------------------------------------------------------------------------------------
# Data


def build_pairs(cfg: TrainConfig, rank: int, reporter: Reporter) -> tuple[object, dict]:
    """The pair source for this process and a summary of the data for the model header."""
    seed = cfg.seed + 1000 * rank
    if cfg.synthetic:
        digits, note = load_mnist(cfg.mnist, "train")
        gen = MovingMNIST(digits, make_backgrounds(64, "train", 64, seed=0))
        summary = {"synthetic": cfg.synthetic, "digits": note, "backgrounds": "64 train (§4.2)"}
        return MovingMNISTPairs(gen, cfg.max_gap, seed, cfg.image_size), summary
    paths, problems = find_clips(cfg.data)
    if not paths:
        raise UserError("; ".join(problems) or "no clips found in --data")
    for problem in problems:
        reporter.emit("warning", message=f"skipped {problem}")
    cache = FrameCache(cfg.cache_dir)
    clips, names = [], []
    errors: list[str] = []
    for index, path in enumerate(paths, 1):
        said = [time.monotonic()]

        def step(done: int, expected: int | None, index=index, path=path, said=said) -> None:
            """The preparing stage's progress, a few times a second: this clip's frames."""
            if time.monotonic() - said[0] < 0.25:
                return
            said[0] = time.monotonic()
            part = min(done / expected, 1.0) if expected else 0.0
            reporter.emit("prepare", index=index, count=len(paths), path=str(path), frame=done,
                          frames=expected, fraction=(index - 1 + part) / len(paths))  # fmt: skip

        reporter.emit("prepare", index=index, count=len(paths), path=str(path), frame=0,
                      frames=None, fraction=(index - 1) / len(paths))  # fmt: skip
        try:
            clip = cache.load(path, cfg.image_size, cfg.fit, progress=step)
        except ClipError as e:
            errors.append(str(e))
            continue
        if len(clip) < 2:
            errors.append(f"{path}: only one frame; a training pair needs two")
            continue
        clips.append(clip.frames)
        names.append(path.name)
        for note in clip.notes:
            reporter.emit("warning", message=note)
    if not clips:
        if len(errors) == 1:
            raise UserError(errors[0])
        raise UserError(
            "no usable clips" + (": " + "; ".join(errors) if errors else " found in --data")
        )
    for e in errors:
        reporter.emit("warning", message=f"skipped {e}")
    summary = {
        "clips": len(clips),
        "frames": int(sum(len(c) for c in clips)),
        "names": names[:50],
        "skipped": len(errors),
    }
    return PairSampler(clips, cfg.max_gap, seed), summary


def describe_data(summary: dict) -> str:
    if "synthetic" in summary:
        return f"{summary['synthetic']} ({summary['digits']})"
    return f"{summary['clips']} clips, {summary['frames']} frames"


# ---------------------------------------------------------------------------------------------
# The trainer


def _describe(config: ModelConfig) -> str:
    widths = ",".join(map(str, config.widths))
    return f"{config.image_size}² px, widths {widths}, {config.latent_channels} latent channels"


def lr_at(cfg: TrainConfig, step: int, fraction: float) -> float:
    """Linear warm-up, then cosine decay to 5% of the peak at the end of the run. The warm-up
    lasts ``warmup_steps``, or unset, WARMUP_STEPS or WARMUP_FRACTION of the run, the shorter."""
    if cfg.warmup_steps is not None:
        warm = (step + 1) / cfg.warmup_steps if step < cfg.warmup_steps else 1.0
    else:
        warm = min(1.0, max((step + 1) / WARMUP_STEPS, fraction / WARMUP_FRACTION))
    if warm < 1.0:
        return cfg.lr * warm
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction))))


class Trainer:
    def __init__(self, cfg: TrainConfig, reporter: Reporter, dist_info: Dist | None = None):
        self.cfg = cfg
        self.reporter = reporter
        self.dist = dist_info or Dist()
        self.folder = RunDir(cfg.out)
        self.run_id = (self.folder.saved_run_id() if cfg.resume else None) or uuid.uuid4().hex[:12]
        self.stop_reason: str | None = None
        self.step = 0
        self.elapsed = 0.0  # training seconds, carried across resumes
        self._sampled_step = -1  # the step of the last sample grid
        self._sample_mark = 0  # how many sixths of the run had passed at the last step
        self.batches: Prefetcher | None = None
        if self.dist.enabled and torch.cuda.is_available() and cfg.device in ("auto", "cuda"):
            self.device = torch.device("cuda", self.dist.local_rank)
        else:
            self.device = devices.resolve_device(cfg.device)
        self.precision = devices.resolve_precision(cfg.precision, self.device)
        self.channels_last = devices.use_channels_last(self.device)

        torch.manual_seed(cfg.seed)
        self.pairs, self.data_summary = build_pairs(cfg, self.dist.rank, reporter)
        self.init_info = None
        if cfg.init:
            model, self.init_info = checkpoint.load(cfg.init)
            if model.config.image_size != cfg.image_size:
                # every layer is resolution-free (convolutions, T^Z's adaptive pooling), so the
                # same weights run at another size: train small first, then at full size
                resized = SceneModel(dataclasses.replace(model.config, image_size=cfg.image_size))
                resized.load_state_dict(model.state_dict())
                model = resized
        else:
            model = SceneModel(cfg.model_config())
        self.model = model.to(self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self._notes: list[str] = []  # told as warnings once the run starts
        if cfg.resume:
            self._restore()
        elif self.folder.has_run:  # validate() let it through: no checkpoint, no model
            self._notes.append(
                f"{self.folder.path}: the run there stopped before its first checkpoint; "
                "starting it again"
            )
        self.net = self.dist.wrap(self.model, self.device)
        if cfg.compile:
            self.net = torch.compile(self.net)
        # The same few pairs in every sample grid, drawn without touching the training RNG.
        self.preview = self.pairs.sample(SAMPLE_PAIRS, np.random.default_rng(cfg.seed + 999_999))

    # -- files -----------------------------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.folder.checkpoints

    def _restore(self) -> None:
        path = self.folder.latest_checkpoint()
        if path is None:
            if self.folder.has_results:
                raise UserError(f"{self.checkpoint_dir}: no checkpoint to resume from")
            self._notes.append(
                f"{self.folder.path}: the run stopped before its first checkpoint; nothing to "
                "resume, so it starts again from step 0 with its saved settings"
            )
            return
        model, info = checkpoint.load(path)
        if info.config != self.model.config:
            raise UserError(
                f"{path}: a checkpoint of another model ({_describe(info.config)}); this run "
                f"trains {_describe(self.model.config)}"
            )
        state = checkpoint.load_training_state(path, self.optimizer)
        if state.get("run_id", self.run_id) != self.run_id:
            raise UserError(
                f"{path}: a checkpoint of another training run (run {state['run_id']}, this "
                f"folder's is {self.run_id}); move it out of {self.checkpoint_dir}"
            )
        self.model.load_state_dict(model.state_dict())
        self.step = int(state["step"])
        self.elapsed = float(state.get("elapsed", 0.0))
        samplers = state.get("samplers", [])
        if len(samplers) == self.dist.world:
            self.pairs.set_state(samplers[self.dist.rank])
        elif self.dist.main:
            self.reporter.emit("warning", message="process count changed; data order reseeded")
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"])
        if self.dist.main:
            self._truncate_metrics()

    def _truncate_metrics(self) -> None:
        """Drop metrics logged after the checkpoint we resume from (they will be redone)."""
        path = self.folder.metrics
        if not path.exists():
            return
        keep = [
            ln
            for ln in path.read_text().splitlines()
            if ln.strip() and json.loads(ln)["step"] <= self.step
        ]
        atomic_write_text(path, "".join(ln + "\n" for ln in keep))

    def training_meta(self, last: dict | None = None) -> dict:
        meta = {
            "steps": self.step,
            "image_size": self.model.config.image_size,
            "data": self.data_summary,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": self.cfg.seed,
            "device": self.device.type,
            "precision": self.precision,
            "batch_size": self.cfg.batch_size * self.dist.world,
            "train_seconds": round(self.elapsed, 1),
            "alpha_equiv": self.cfg.alpha_equiv,
            "alpha_inv": self.cfg.alpha_inv,
            "alpha_ident": self.cfg.alpha_ident,
            "change_weight": self.cfg.change_weight,
        }
        if self.init_info is not None:
            meta["init_from"] = str(self.init_info.path)
        if last:
            meta["last_losses"] = {k: last[k] for k in ("scene", "equiv", "inv") if k in last}
        return meta

    def save_checkpoint(self, last: dict | None) -> Path | None:
        samplers = self.dist.gather((self.batches or self.pairs).state())
        if not self.dist.main:
            return None
        meta = self.training_meta(last)
        path = self.checkpoint_dir / f"step_{self.step:07d}.safetensors"
        state = {
            "run_id": self.run_id,
            "step": self.step,
            "elapsed": self.elapsed,
            "samplers": samplers,
            "torch_rng": torch.get_rng_state(),
        }
        checkpoint.save(path, self.model, meta, self.optimizer, state)
        checkpoint.save(self.folder.model, self.model, meta)
        old = self.folder.checkpoint_files()[: -self.cfg.keep_checkpoints]
        for p in old:
            p.unlink(missing_ok=True)
        self.reporter.emit(
            "checkpoint",
            step=self.step,
            path=str(path),
            model=str(self.folder.model),
        )
        return path

    def _sample_due(self) -> bool:
        """A sample grid every ``sample_every`` steps; unset, every SAMPLE_EVERY steps and at
        each 1/SAMPLES_PER_RUN of the run (by steps or time, as the run is measured)."""
        if self.cfg.sample_every is not None:
            return bool(self.cfg.sample_every) and self.step % self.cfg.sample_every == 0
        mark = math.floor(self.fraction() * SAMPLES_PER_RUN)
        due = self.step % SAMPLE_EVERY == 0 or mark > self._sample_mark
        self._sample_mark = mark
        return due

    def save_samples(self) -> None:
        self._sampled_step = self.step
        if not self.dist.main:
            return
        x1, x2 = (self._batch(x) for x in self.preview)
        with devices.autocast(self.device, self.precision):
            img = sample_grid(self.model, x1, x2)
        path = self.folder.samples / f"step_{self.step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path)
        self.reporter.emit("sample", step=self.step, path=str(path))

    def write_config(self) -> None:
        cfg = dataclasses.asdict(self.cfg)
        cfg["widths"] = list(self.cfg.widths)
        for key in PATH_SETTINGS:  # absolute, so that --resume works from any directory
            cfg[key] = _absolute(key, cfg[key])
        doc = {
            "run_id": self.run_id,
            "train": cfg,
            "model": self.model.config.to_dict(),
            "device": self.device.type,
            "precision": self.precision,
            "world_size": self.dist.world,
            "data": self.data_summary,
        }
        atomic_write_text(self.folder.config, json.dumps(doc, indent=2))

    # -- the loop --------------------------------------------------------------------------------
    def _batch(self, frames: np.ndarray) -> torch.Tensor:
        x = to_tensor(frames, self.device)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def fraction(self) -> float:
        parts = []
        if self.cfg.steps:
            parts.append(self.step / self.cfg.steps)
        if self.cfg.time_budget:
            parts.append(self.elapsed / (self.cfg.time_budget * 60))
        return min(1.0, max(parts))

    def _should_stop(self) -> bool:
        local = self.stop_reason
        if local is None and self.fraction() >= 1.0:
            steps_done = self.cfg.steps is not None and self.step >= self.cfg.steps
            local = "finished" if steps_done else "time_budget"
        reasons = (None, "finished", "time_budget", "interrupted")  # the latest one wins
        local = reasons[self.dist.largest(reasons.index(local))]
        self.stop_reason = local
        return local is not None

    def _handle_signal(self, signum, frame) -> None:
        self.stop_reason = "interrupted"

    def run(self) -> dict:
        cfg = self.cfg
        self.folder.path.mkdir(parents=True, exist_ok=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle_signal)
        if self.dist.main:
            self.folder.clean_temporaries()
            if self.step == 0:  # a fresh start, or a restart of a run that saved nothing
                self.folder.forget_unsaved()
            self.write_config()
            for note in self._notes:
                self.reporter.emit("warning", message=note)
        n_params = sum(p.numel() for p in self.model.parameters())
        self.reporter.emit(
            "start",
            run_dir=str(self.folder.path),
            step=self.step,
            total_steps=cfg.steps,
            time_budget_s=cfg.time_budget * 60 if cfg.time_budget else None,
            device=self.device.type,
            precision=self.precision,
            parameters=n_params,
            world_size=self.dist.world,
            data=describe_data(self.data_summary),
        )
        metrics = self.folder.metrics.open("a") if self.dist.main else None
        window_sum: torch.Tensor | None = None  # loss terms summed on the device
        window_steps, window_time = 0, 0.0
        last: dict | None = None
        self.net.train()
        self._sample_mark = math.floor(self.fraction() * SAMPLES_PER_RUN)  # a resume: from here
        self.batches = Prefetcher(self.pairs, cfg.batch_size)
        try:
            while not self._should_stop():
                t0 = time.perf_counter()
                lr = lr_at(cfg, self.step, self.fraction())
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                x1, x2 = (self._batch(x) for x in self.batches.next())
                with devices.autocast(self.device, self.precision):
                    terms = self.net(x1, x2, cfg.aux_loss, cfg.change_weight)
                loss = total_loss(terms, cfg.alpha_equiv, cfg.alpha_inv, cfg.alpha_ident)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.clip_grad > 0:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_grad)
                self.optimizer.step()
                self.step += 1
                dt = time.perf_counter() - t0
                self.elapsed += dt
                window_time += dt
                # no read-back here: a GPU would wait for every step; one sync per log line
                values = torch.stack([*(terms[k].detach().float() for k in LOGGED_TERMS),
                                      loss.detach().float()])  # fmt: skip
                window_sum = values if window_sum is None else window_sum + values
                window_steps += 1
                if self.step % cfg.log_every == 0 or self._at_end():
                    last = self._window_mean(window_sum, window_steps)
                    pairs = window_steps * cfg.batch_size * self.dist.world
                    self._log(metrics, last, lr, pairs / window_time)
                    window_sum, window_steps, window_time = None, 0, 0.0
                if self._sample_due():
                    self.save_samples()
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint(last)
        finally:
            self.batches.close()
            if metrics:
                metrics.close()
        if window_sum is not None:
            last = self._window_mean(window_sum, window_steps)
        ckpt = self.save_checkpoint(last)
        if self._sampled_step != self.step:
            self.save_samples()
        result = {
            "step": self.step,
            "reason": self.stop_reason,
            "model": str(self.folder.model),
            "checkpoint": str(ckpt) if ckpt else None,
            "elapsed_s": round(self.elapsed, 2),
            "losses": last,
        }
        self.reporter.emit("done", **result)
        self.dist.wait_for_all()
        return result

    def _window_mean(self, total: torch.Tensor, steps: int) -> dict:
        last = dict(zip((*LOGGED_TERMS, "total"), (total / steps).tolist(), strict=True))
        if not math.isfinite(last["total"]):
            raise UserError(
                f"training diverged by step {self.step} (loss is {last['total']}); try a lower --lr"
            )
        return last

    def _at_end(self) -> bool:
        return self.stop_reason is not None or self.fraction() >= 1.0

    def _log(self, metrics, last: dict, lr: float, pairs_per_s: float) -> None:
        if not self.dist.main:
            return
        frac = self.fraction()
        remaining = (1 - frac) / frac * self.elapsed if frac > 0 else None
        row = {
            "step": self.step,
            **{k: round(v, 7) for k, v in last.items()},
            "lr": lr,
            "pairs_per_s": round(pairs_per_s, 2),
            "elapsed_s": round(self.elapsed, 3),
        }
        metrics.write(json.dumps(row) + "\n")
        metrics.flush()
        self.reporter.emit(
            "progress", total_steps=self.cfg.steps, fraction=round(frac, 5), eta_s=remaining, **row
        )


def main(argv: list[str] | None = None) -> int:
    mode = "bar"
    reporter = Reporter(mode)
    dist_info = Dist()
    try:
        cfg = config_from_args(argv)
        mode = cfg.progress
        dist_info = distributed.start(cfg.device)
        reporter = Reporter(cfg.progress if dist_info.main else "none")
        validate(cfg)
        trainer = Trainer(cfg, reporter, dist_info)
        trainer.run()
    except (UserError, OSError) as e:
        # OSError: the disk, not the code (full, read-only, a file where a folder goes)
        message = one_line(e)
        reporter.emit("error", message=message)
        if mode == "json":
            print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl+C before training started (while reading clips)
        reporter.emit("error", message="interrupted before training started; nothing was saved")
        return 130
    except Exception as e:
        # A bug, not bad input: stay loud (traceback), but let a driving program know too.
        if mode == "json":
            reporter.emit("error", message=f"internal error: {type(e).__name__}: {e}")
        raise
    finally:
        reporter.close()
        distributed.stop(dist_info)
    return 0


if __name__ == "__main__":
    code = main()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # a torchrun rank leaves without C++ static destructors: torch's gloo threads were seen
        # to abort the process there, after all was done and saved ("terminate called without
        # an active exception"), failing the whole run
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
