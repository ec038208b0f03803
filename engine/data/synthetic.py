"""The paper's synthetic data: diamond backgrounds (§4.2) and Moving MNIST on them (§4.3).

Data path role: a stand-in for imported clips, with ground truth. Sequences come with the true
affine of every frame, so the learned T^Z can be checked (§4.6); they can also be written out as
real video files (``python -m engine.data.synthetic``) to exercise the clip import path.

Ground-truth convention: ``Sequence.affines[t]`` is the 2x3 forward map, in pixel coordinates
(x right, y down, pixel centres at integers, as OpenCV), from the 28x28 digit canvas to frame t.
``relative_affine`` gives frame i → frame j, and ``pixel_affine_to_theta`` converts a forward
pixel map into the ``affine_grid`` theta that moves content the same way (see engine/model.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.data.css4 import CSS4_COLORS

SPLITS = {"train": 0, "val": 1, "test": 2}
COLOR_NAMES = tuple(sorted(n for n in CSS4_COLORS if n != "black"))
COLOR_RGB = np.array(
    [[int(CSS4_COLORS[n][i : i + 2], 16) for i in (1, 3, 5)] for n in COLOR_NAMES], np.uint8
)
ROTATIONS = tuple(a for a in range(-15, 16, 3) if a)  # degrees
TRANSLATIONS = tuple(t for t in range(-10, 11, 2) if t)  # pixels, per axis
_TRANSLATIONS = np.array(TRANSLATIONS, np.float64)
DIGIT = 28


def make_backgrounds(
    count: int = 64, split: str = "train", size: int = 64, seed: int = 0
) -> np.ndarray:
    """§4.2: a CSS4 colour fill (never black) with five diamonds of different random colours,
    random centres, radius uniform in 7..10 inclusive. Each split has its own seeded set."""
    rng = np.random.default_rng([seed, SPLITS[split], 4242])
    yy, xx = np.mgrid[0:size, 0:size]
    out = np.empty((count, size, size, 3), np.uint8)
    for b in range(count):
        colors = rng.choice(len(COLOR_NAMES), size=6, replace=False)
        out[b] = COLOR_RGB[colors[0]]
        for c in colors[1:]:
            cx, cy = rng.integers(0, size, size=2)
            radius = rng.integers(7, 11)
            out[b][np.abs(xx - cx) + np.abs(yy - cy) <= radius] = COLOR_RGB[c]
    return out


def _h(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def relative_affine(a_i: np.ndarray, a_j: np.ndarray) -> np.ndarray:
    """Forward pixel map frame i → frame j, from the per-frame digit → frame maps."""
    return (_h(a_j) @ np.linalg.inv(_h(a_i)))[:2]


def apply_motion(a_from: np.ndarray, a_to: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Placement ``a`` moved by the image-space motion that takes placement ``a_from`` to
    ``a_to`` (the same global map, whatever ``a`` places)."""
    return (_h(relative_affine(a_from, a_to)) @ _h(a))[:2]


def own_centre_motion(a_from: np.ndarray, a_to: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Placement ``a`` moved like ``a_from`` → ``a_to`` relative to its own digit centre: the
    same rotation about its own centre, the same shift of the centre."""
    centre = np.array([(DIGIT - 1) / 2, (DIGIT - 1) / 2, 1.0])
    shift = np.eye(3)
    shift[:2, 2] = a @ centre - a_from @ centre  # from the first digit's centre to this one's
    motion = shift @ _h(relative_affine(a_from, a_to)) @ np.linalg.inv(shift)
    return (motion @ _h(a))[:2]


def pixel_affine_to_theta(m: np.ndarray, size: int) -> np.ndarray:
    """The affine_grid theta (output → input, normalised, align_corners=False) that moves
    content as the forward pixel map ``m`` does, for a square image of ``size`` pixels.
    Normalised coordinates do not depend on resolution, so the same theta applies to a feature
    map of any size."""
    n = np.array([[2.0 / size, 0, 1.0 / size - 1], [0, 2.0 / size, 1.0 / size - 1], [0, 0, 1]])
    forward = n @ _h(np.asarray(m, np.float64)) @ np.linalg.inv(n)
    return np.linalg.inv(forward)[:2]


@dataclass
class Sequence:
    frames: np.ndarray  # (M, S, S, 3) uint8
    affines: np.ndarray  # (M, 2, 3) float64, digit canvas → frame
    digit: int
    background: int


class MovingMNIST:
    """§4.3: a 28x28 digit moving on a static background for ``length`` frames. Each step is a
    rotation (±3..±15°, steps of 3) or a translation (±2..±10 px per axis, steps of 2), chosen at
    random, redrawn if the digit would leave the frame, applied cumulatively. Digit pixels
    blacken the background."""

    def __init__(self, digits: np.ndarray, backgrounds: np.ndarray, length: int = 5) -> None:
        self.digits = digits
        self.backgrounds = backgrounds
        self.length = length
        self.size = backgrounds.shape[1]

    def _ink_corners(self, digit: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero(digit)
        if len(xs) == 0:
            ys, xs = np.array([0, DIGIT - 1]), np.array([0, DIGIT - 1])
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        return np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float64).T

    def _step(self, rng: np.random.Generator, a: np.ndarray, corners: np.ndarray) -> np.ndarray:
        for _ in range(1000):
            if rng.random() < 0.5:
                angle = np.deg2rad(ROTATIONS[rng.integers(len(ROTATIONS))])
                cx, cy = a @ [(DIGIT - 1) / 2, (DIGIT - 1) / 2, 1]
                c, s = np.cos(angle), np.sin(angle)
                # positive angle: counter-clockwise on screen (y points down)
                rot = np.array([[c, s, cx - c * cx - s * cy], [-s, c, cy + s * cx - c * cy]])
                new = (_h(rot) @ _h(a))[:2]
            else:
                dx, dy = _TRANSLATIONS[rng.integers(len(TRANSLATIONS), size=2)]
                new = a + np.array([[0, 0, dx], [0, 0, dy]], np.float64)
            pts = new @ corners
            if pts.min() >= 0 and pts.max() <= self.size - 1:
                return new
        return a

    def trajectory(
        self, rng: np.random.Generator, digit: int | None = None, background: int | None = None
    ) -> tuple[int, int, np.ndarray]:
        """Draw a digit, a background and the per-frame affines (nothing is rendered)."""
        d = int(rng.integers(len(self.digits))) if digit is None else digit
        b = int(rng.integers(len(self.backgrounds))) if background is None else background
        corners = self._ink_corners(self.digits[d])
        tx, ty = rng.integers(0, self.size - DIGIT + 1, size=2)
        a = np.array([[1.0, 0, tx], [0, 1.0, ty]])
        affines = [a]
        for _ in range(self.length - 1):
            a = self._step(rng, a, corners)
            affines.append(a)
        return d, b, np.stack(affines)

    def sequence(
        self, rng: np.random.Generator, digit: int | None = None, background: int | None = None
    ) -> Sequence:
        d, b, affines = self.trajectory(rng, digit, background)
        frames = np.stack([self.render(d, b, m) for m in affines])
        return Sequence(frames, affines, d, b)

    def render(self, digit: int, background: int, affine: np.ndarray) -> np.ndarray:
        """Digit ``digit`` placed by ``affine`` on background ``background``; the digit's
        pixels blacken the background in proportion to their ink."""
        ink = cv2.warpAffine(self.digits[digit], affine, (self.size, self.size),
                             flags=cv2.INTER_LINEAR)
        keep = (255 - ink).astype(np.uint16)[..., None]
        return ((self.backgrounds[background] * keep + 127) // 255).astype(np.uint8)


def write_videos(
    out_dir: str | os.PathLike,
    generator: MovingMNIST,
    count: int,
    seed: int = 0,
    fps: float = 8.0,
    ext: str = ".mp4",
) -> list[Path]:
    """Write ``count`` sequences as real video files (``seq_00000.mp4``, …)."""
    from engine.data.clips import write_video

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    return [
        write_video(out / f"seq_{i:05d}{ext}", generator.sequence(rng).frames, fps=fps)
        for i in range(count)
    ]


def main(argv: list[str] | None = None) -> int:
    from engine.data.mnist import load_mnist
    from engine.errors import UserError

    p = argparse.ArgumentParser(
        prog="python -m engine.data.synthetic",
        description="Write Moving MNIST sequences on diamond backgrounds as video files.",
    )
    p.add_argument("--mnist", required=True, help="folder with MNIST IDX or npz files")
    p.add_argument("--out", required=True, help="folder to write the videos into")
    p.add_argument("--count", type=int, default=100, help="number of videos (default 100)")
    p.add_argument("--split", choices=("train", "test"), default="train")
    p.add_argument("--frames", type=int, default=5, help="frames per video (paper: 5)")
    p.add_argument("--backgrounds", type=int, default=64, help="background set size (paper: 64)")
    p.add_argument("--format", default="mp4", choices=("mp4", "webm", "gif", "avi", "mkv", "mov"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        digits, note = load_mnist(args.mnist, args.split)
        bgs = make_backgrounds(args.backgrounds, "test" if args.split == "test" else "train")
        paths = write_videos(
            args.out,
            MovingMNIST(digits, bgs, args.frames),
            args.count,
            args.seed,
            ext="." + args.format,
        )
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} videos to {args.out} (digits: {note})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
