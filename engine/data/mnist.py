"""MNIST digits from local IDX (optionally gzipped) or npz files. Never downloads anything.

For the training split the exact ``train-images-idx3-ubyte[.gz]`` is used when present; otherwise
an ``.npz`` with ``x_train`` anywhere under the folder (such as the approximate array described in
../shared/data/mnist/README.md), and the returned note says so.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from engine.errors import UserError

_IMAGES = {"train": "train-images-idx3-ubyte", "test": "t10k-images-idx3-ubyte"}
_LABELS = {"train": "train-labels-idx1-ubyte", "test": "t10k-labels-idx1-ubyte"}


def _read_idx(path: Path, magic: int, kind: str) -> tuple[bytes, int]:
    """The raw bytes of an IDX file (gunzipped) and its item count, header checked."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise UserError(f"{path}: cannot read MNIST file ({e})") from None
    if len(raw) < 8 or int.from_bytes(raw[:4], "big") != magic:
        raise UserError(f"{path}: not an MNIST {kind} file (bad IDX header)")
    return raw, int.from_bytes(raw[4:8], "big")


def _read_idx_images(path: Path) -> np.ndarray:
    raw, n = _read_idx(path, 2051, "image")
    rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in (8, 12))
    if len(raw) != 16 + n * rows * cols:
        raise UserError(f"{path}: truncated MNIST image file")
    return np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows, cols)


def load_mnist(directory: str | os.PathLike, split: str = "train") -> tuple[np.ndarray, str]:
    """Digits of one split as uint8 (N, 28, 28), white on black, and a note on their source."""
    if split not in _IMAGES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    root = Path(directory)
    if not root.is_dir():
        raise UserError(f"{root}: MNIST folder not found")
    for name in (_IMAGES[split], _IMAGES[split] + ".gz"):
        if (root / name).is_file():
            return _read_idx_images(root / name), f"exact MNIST {split} ({root / name})"
    if split == "train":
        for npz in sorted(root.rglob("*.npz")):
            try:
                with np.load(npz, allow_pickle=False) as z:
                    if "x_train" in z:
                        x = np.asarray(z["x_train"], np.uint8)
                        if x.ndim == 3:
                            return x, f"APPROXIMATE MNIST train array ({npz})"
            except (OSError, ValueError) as e:
                raise UserError(f"{npz}: cannot read ({e})") from None
    raise UserError(f"{root}: no MNIST {split} images ({_IMAGES[split]}[.gz] or an .npz)")


def load_mnist_labels(directory: str | os.PathLike, split: str = "test") -> np.ndarray:
    """Digit classes (N,) uint8 of one split, from the IDX label file."""
    root = Path(directory)
    for name in (_LABELS[split], _LABELS[split] + ".gz"):
        path = root / name
        if path.is_file():
            raw, n = _read_idx(path, 2049, "label")
            if len(raw) != 8 + n:
                raise UserError(f"{path}: truncated MNIST label file")
            return np.frombuffer(raw, np.uint8, offset=8)
    raise UserError(f"{root}: no MNIST {split} labels ({_LABELS[split]}[.gz])")
