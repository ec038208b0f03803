"""The affine ↔ pixel mapping, in one place. T^Z's ``theta`` (N, 2, 3) maps *output* to *input*
coordinates in the normalised [-1, 1] space of a frame (``F.affine_grid`` / ``grid_sample`` with
``align_corners=False``; engine.model's docstring has the whole convention). Here: pixel
coordinates (x right, y down, pixel centres at integers, as OpenCV's ``warpAffine`` takes them)
↔ normalised ones, 2×3 ↔ 3×3 matrices, and theta ↔ the forward map of a frame's pixels. NumPy
only."""

from __future__ import annotations

import numpy as np


def normaliser(width: int, height: int) -> np.ndarray:
    """Pixel coordinates (centres at integers) → normalised [-1, 1] (align_corners=False)."""
    return np.array([[2 / width, 0, 1 / width - 1], [0, 2 / height, 1 / height - 1], [0, 0, 1]])


def homogeneous(m) -> np.ndarray:
    """Affine maps (..., 2, 3) as 3×3 matrices (..., 3, 3); 3×3 ones as they are."""
    m = np.asarray(m, np.float64)
    if m.shape[-2:] == (3, 3):
        return m
    out = np.zeros((*m.shape[:-2], 3, 3))
    out[..., :2, :] = m[..., :2, :]
    out[..., 2, 2] = 1
    return out


def theta_to_pixels(theta, width: int, height: int) -> np.ndarray:
    """The forward pixel map (..., 2, 3) of a frame W×H whose content theta (..., 2, 3) moves:
    the point at pixel p goes to ``M @ (p, 1)``. See the affine convention above."""
    n = normaliser(width, height)
    forward = np.linalg.inv(homogeneous(np.asarray(theta, np.float64)))
    return (np.linalg.inv(n) @ forward @ n)[..., :2, :]


def pixels_to_theta(matrix, width: int, height: int) -> np.ndarray:
    """theta (..., 2, 3) that moves a W×H frame's content by the forward pixel map ``matrix``."""
    n = normaliser(width, height)
    return (n @ np.linalg.inv(homogeneous(matrix)) @ np.linalg.inv(n))[..., :2, :]
