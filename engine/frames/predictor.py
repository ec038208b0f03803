"""Motion past the clip's end: a small recurrent predictor on the motion alone (DrNet's idea,
../shared/papers/drnet-disentangled-video.txt; several futures steered by a take and an
attraction point, as in the second abstract of related-abstracts.txt).

Data path role: "Extend motion by N frames" (engine.document.Shot.extend). The model already
splits a frame into the character's content (f_c), its motion (T^Z) and the set (f_b); the
predictor sees per frame only

- the **root**: where the character's centre is, its turn and its size — T^Z against the clip's
  first frame, as a similarity about the character's centre (:func:`roots`);
- the **pose**: f_c with the root taken out (engine.frames.inputs.motion_features), reduced by
  PCA to :data:`POSE_DIMS` numbers over the project's clips,

and predicts the next frame's pose and how the root swings about the clip's own pace (its mean
step: a walk's speed, a spin's rate) from the frames before. Each predicted pose is shown by the
nearest real frame of the motion (pixels mode: its cut-out; model mode: decoded by g) at the
predicted root. An attraction point turns the pace towards it (:meth:`MotionPredictor.predict`).

Takes: take 0 is the predictor's own (most likely) continuation; take k > 0 adds noise drawn
from seed k, scaled like the predictor's errors on its training clips, so each take is another
plausible future. Trained in seconds on the CPU; saved as safetensors in the project.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from engine.checkpoint import utf8_path
from engine.errors import UserError
from engine.fileio import atomic_path

POSE_DIMS = 8
ROOT_DIMS = 4
"""Δx, Δy of the character's centre (normalised), Δ turn (radians), Δ log size."""
HIDDEN = 64
CONTINUE = 0.5
"""How much nearer a predicted pose must be to another frame than to the clip's next one for
the prediction to jump there (see MotionPredictor._show)."""
LEAK = 0.9
"""Per frame, how much of the predicted swing about the pace is kept (the rest fades)."""


class PredictorError(UserError):
    pass


def similarity(x: float, y: float, angle: float, log_scale: float, centre) -> np.ndarray:
    """Forward map (3×3, normalised) that puts a character whose centre was at ``centre`` at
    (x, y), turned by ``angle`` radians and scaled by e^log_scale about its centre."""
    s = math.exp(log_scale)
    c, si = s * math.cos(angle), s * math.sin(angle)
    cx, cy = centre
    return np.array([[c, -si, x - c * cx + si * cy], [si, c, y - si * cx - c * cy], [0, 0, 1.0]])


def roots(forward: np.ndarray, centre) -> np.ndarray:
    """(N, 4) root of each frame: the centre's position (x, y), turn and log size, from forward
    maps (N, 3, 3) of the character from the first frame (whose centre is ``centre``)."""
    forward = np.asarray(forward, np.float64)
    pos = forward @ np.append(np.asarray(centre, np.float64), 1.0)
    a, b = forward[:, 0, 0], forward[:, 1, 0]
    det = np.abs(np.linalg.det(forward[:, :2, :2]))
    return np.stack([pos[:, 0], pos[:, 1], np.unwrap(np.arctan2(b, a)),
                     0.5 * np.log(np.maximum(det, 1e-6))], axis=1)  # fmt: skip


class _Net(nn.Module):
    def __init__(self, dims: int) -> None:
        super().__init__()
        self.rnn = nn.GRU(dims, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, dims)

    def forward(self, x: torch.Tensor, h=None):
        out, h = self.rnn(x, h)
        return self.head(out), h


@dataclass
class Prediction:
    """Predicted frames: roots (T, 4); ``nearest`` (T,), the clip frame shown for each (the
    nearest real pose); ``mirrored`` (T,), where the character goes against its own way."""

    roots: np.ndarray
    nearest: np.ndarray
    mirrored: np.ndarray


@dataclass
class Motion:
    """One motion as the predictor sees it: roots (N, 4) and poses (N, D) (f_c, root out)."""

    roots: np.ndarray
    poses: np.ndarray


class MotionPredictor:
    """The trained network with its PCA and feature scales."""

    def __init__(self, net: _Net, mean: np.ndarray, basis: np.ndarray, scale: np.ndarray,
                 noise: np.ndarray, info: dict) -> None:  # fmt: skip
        self.net, self.mean, self.basis, self.scale, self.noise = net, mean, basis, scale, noise
        self.info = info

    # -- features -------------------------------------------------------------------------------
    def codes(self, poses: np.ndarray) -> np.ndarray:
        """Pose codes (N, POSE_DIMS) of poses (N, D)."""
        # torch's product, not numpy's: numpy's OpenBLAS stalls beside torch's threads on the
        # studio's render thread (engine.frames.motion.frame_distance)
        centred = torch.as_tensor(np.asarray(poses, np.float64) - self.mean)
        return (centred @ torch.as_tensor(self.basis).T).numpy()

    @staticmethod
    def drift(clip: Motion) -> np.ndarray:
        """The clip's mean root step (4,): how far it goes per frame on average (a walk's pace,
        a spin's rate; about nothing for a jump on the spot)."""
        return (clip.roots[-1] - clip.roots[0]) / max(len(clip.roots) - 1, 1)

    def steps(self, clip: Motion) -> np.ndarray:
        """(N, 4 + POSE_DIMS): each frame's root step from the frame before, less the clip's
        drift (the network learns how the motion swings about its pace, so an error does not
        become a new pace), and its pose code, in the network's units."""
        d = np.diff(clip.roots, axis=0, prepend=clip.roots[:1]) - self.drift(clip)
        d[0] = 0
        return np.concatenate([d, self.codes(clip.poses)], axis=1) / self.scale

    # -- training -------------------------------------------------------------------------------
    @classmethod
    def train(cls, clips: list[Motion], steps: int = 400, seed: int = 0,
              progress=None, cancel=None) -> MotionPredictor:  # fmt: skip
        """Fit on a project's motions (each at least 3 frames)."""
        clips = [c for c in clips if len(c.roots) >= 3]
        if not clips:
            raise PredictorError("no clip of 3 frames or more to learn motion from")
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        poses = np.concatenate([c.poses for c in clips]).astype(np.float64)
        mean = poses.mean(0)
        _, sv, vt = (x.numpy() for x in torch.linalg.svd(torch.as_tensor(poses - mean),
                                                         full_matrices=False))  # fmt: skip
        k = min(POSE_DIMS, len(sv))
        basis = np.zeros((POSE_DIMS, poses.shape[1]))
        basis[:k] = vt[:k] / np.maximum(sv[:k, None] / math.sqrt(len(poses)), 1e-8)
        dims = ROOT_DIMS + POSE_DIMS
        probe = cls(_Net(dims), mean, basis, np.ones(dims), np.zeros(dims), {})
        raw = [probe.steps(c) for c in clips]
        scale = np.maximum(np.concatenate(raw).std(0), 1e-4)
        scale[ROOT_DIMS + k :] = 1.0
        seqs = [torch.tensor(r / scale, dtype=torch.float32) for r in raw]
        net = _Net(dims)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        window = min(24, max(len(s) for s in seqs))
        for it in range(steps):
            if cancel is not None and cancel():
                from engine.errors import Cancelled

                raise Cancelled()
            xs, ys = [], []
            for _ in range(16):
                s = seqs[int(rng.integers(len(seqs)))]
                n = min(window, len(s) - 1)
                a = int(rng.integers(0, len(s) - n))
                x, y = s[a : a + n], s[a + 1 : a + n + 1]
                if rng.random() < 0.5:  # mirrored: the same motion the other way
                    flip = torch.ones(dims)
                    flip[[0, 2]] = -1
                    x, y = x * flip, y * flip
                pad = window - n
                xs.append(torch.nn.functional.pad(x, (0, 0, 0, pad)))
                ys.append(torch.nn.functional.pad(y, (0, 0, 0, pad)))
            x, y = torch.stack(xs), torch.stack(ys)
            mask = (y.abs().sum(-1, keepdim=True) > 0).float()
            pred, _ = net(x)
            loss = (((pred - y) ** 2) * mask).sum() / mask.sum().clamp(min=1) / dims
            opt.zero_grad()
            loss.backward()
            opt.step()
            if progress is not None and it % 20 == 0:
                progress(it, steps)
        with torch.no_grad():
            errors = []
            for s in seqs:
                pred, _ = net(s[None, :-1])
                errors.append((pred[0] - s[1:]).numpy())
            noise = np.concatenate(errors).std(0)
        info = {"clips": len(clips), "frames": int(sum(len(s) for s in seqs)), "steps": steps,
                "loss": float(loss.detach())}  # fmt: skip
        return cls(net.eval(), mean, basis, scale, noise, info)

    # -- predicting -----------------------------------------------------------------------------
    @torch.no_grad()
    def predict(
        self,
        clip: Motion,
        frames: int,
        take: int = 0,
        target: tuple[float, float] | None = None,
        successors=None,
    ) -> Prediction:
        """``frames`` frames after the end of ``clip``. ``take`` > 0 draws another future;
        ``target`` (x, y normalised) is where the character heads for: its pace (the clip's
        drift, or a slow step for a character that stays on its spot) turned towards it, the
        character mirrored while it goes against the way it went in the clip, until it arrives.
        ``successors(k)``: the clip frames that may follow frame k without a visible jump (the
        endless walk's transition graph); the predicted pose picks among them.
        """
        seq = torch.tensor(self.steps(clip), dtype=torch.float32)
        out, h = self.net(seq[None])
        rng = np.random.default_rng(take) if take else None
        codes = self.codes(clip.poses)
        root, drift = clip.roots[-1].copy(), self.drift(clip)
        base, off = root.copy(), np.zeros(ROOT_DIMS)
        pace = max(float(np.hypot(*drift[:2])), 0.005)
        roots, nearest = np.zeros((frames, ROOT_DIMS)), np.zeros(frames, np.int64)
        mirrored = np.zeros(frames, bool)
        x = out[0, -1].numpy()
        smooth = np.zeros_like(x)
        for t in range(frames):
            if rng is not None:  # a take: the predictor's own errors, drawn and smoothed
                smooth = 0.7 * smooth + 0.3 * rng.standard_normal(len(x)) * 1.8
                x = x + smooth * self.noise
            step = x * self.scale
            swing = step[:ROOT_DIMS].copy()
            move = drift.copy()
            if target is not None:
                to = np.asarray(target, np.float64) - root[:2]
                dist = float(np.hypot(*to))
                move[:2] = to * min(1.0, pace / dist) if dist > 1e-9 else 0.0
                mirrored[t] = abs(drift[0]) > 1e-4 and move[0] * drift[0] < 0
                if dist < 2 * pace:  # arrived: the swings calm down
                    swing[:2] *= dist / (2 * pace)
                if mirrored[t]:
                    swing[[0, 2]] *= -1
            # the swings about the pace, with a leak: a bias in them must not become a drift
            base, off = base + move, LEAK * off + swing
            root = base + off
            roots[t] = root
            shown = nearest[t - 1] if t else len(codes) - 1
            allowed = None if successors is None else successors(int(shown))
            nearest[t] = self._show(codes, step[ROOT_DIMS:], shown, allowed)
            # the pose fed back is the real frame's shown, so the motion stays one the clip has
            x = np.concatenate([step[:ROOT_DIMS], codes[nearest[t]]]) / self.scale
            o, h = self.net(torch.tensor(x, dtype=torch.float32)[None, None], h)
            x = o[0, 0].numpy()
        return Prediction(roots, nearest, mirrored)

    @staticmethod
    def _show(codes: np.ndarray, pose: np.ndarray, prev: int, allowed=None) -> int:
        """The clip frame that shows a predicted pose: the nearest real one (of those
        ``allowed`` to follow the one shown before), where the next frame wins unless another
        is clearly nearer, and the one shown before loses (the clip's own frames in order, not
        a stutter between neighbours)."""
        d = ((codes - pose) ** 2).sum(1)
        d[prev] = d[prev] * 2 + 1e-6
        if prev + 1 < len(codes):
            d[prev + 1] *= CONTINUE
        if allowed is not None and len(allowed):
            return int(allowed[np.argmin(d[allowed])])
        return int(d.argmin())

    # -- files ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {f"net.{k}": v.contiguous() for k, v in self.net.state_dict().items()}
        for name in ("mean", "basis", "scale", "noise"):
            tensors[name] = torch.tensor(getattr(self, name), dtype=torch.float64)
        with atomic_path(path) as tmp:
            save_file(tensors, utf8_path(tmp), metadata={"zoetrope": "motion-predictor",
                                                   "info": json.dumps(self.info)})  # fmt: skip
        return path

    @classmethod
    def load(cls, path: str | Path) -> MotionPredictor:
        path = Path(path)
        try:
            from safetensors import safe_open

            with safe_open(utf8_path(path), "pt") as f:
                meta = f.metadata() or {}
            tensors = load_file(utf8_path(path))
            if meta.get("zoetrope") != "motion-predictor":
                raise PredictorError(f"{path}: not a Zoetrope motion predictor")
            net = _Net(ROOT_DIMS + POSE_DIMS)
            net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
            arrays = {n: tensors[n].numpy() for n in ("mean", "basis", "scale", "noise")}
            info = json.loads(meta.get("info", "{}"))
        except PredictorError:
            raise
        except FileNotFoundError:
            raise PredictorError(f"{path}: no motion predictor (Shot → Extend Motion… trains "
                                 "one)") from None  # fmt: skip
        except Exception as e:  # a damaged or foreign file: say so, never a traceback
            raise PredictorError(f"{path}: damaged motion predictor ({e})") from None
        return cls(net.eval(), info=info, **arrays)
