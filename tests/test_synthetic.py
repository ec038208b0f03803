import cv2
import numpy as np
import torch

from engine.data.css4 import CSS4_COLORS
from engine.data.synthetic import (
    COLOR_RGB,
    ROTATIONS,
    TRANSLATIONS,
    MovingMNIST,
    make_backgrounds,
    pixel_affine_to_theta,
    relative_affine,
)
from engine.model import warp


def test_backgrounds_follow_the_paper():
    bgs = make_backgrounds(16, "train")
    assert bgs.shape == (16, 64, 64, 3) and bgs.dtype == np.uint8
    palette = {tuple(c) for c in COLOR_RGB}
    assert len(CSS4_COLORS) == 148 and (0, 0, 0) not in palette
    for bg in bgs:
        colors, counts = np.unique(bg.reshape(-1, 3), axis=0, return_counts=True)
        assert all(tuple(c) in palette for c in colors)
        assert 2 <= len(colors) <= 6  # the fill and up to five diamonds (overlaps may hide one)
        assert counts.max() > 64 * 64 // 3  # the fill dominates
    np.testing.assert_array_equal(bgs, make_backgrounds(16, "train"))
    assert not np.array_equal(bgs, make_backgrounds(16, "test"))


def test_diamond_radius_is_seven_to_ten():
    # A lone diamond on a 64x64 canvas: count its pixels, 2r(r+1)+1 for radius r.
    areas = {2 * r * (r + 1) + 1 for r in range(7, 11)}
    bg = make_backgrounds(1, "val", size=256)[0]
    colors, counts = np.unique(bg.reshape(-1, 3), axis=0, return_counts=True)
    fill = colors[counts.argmax()]
    for c, n in zip(colors, counts, strict=True):
        if (c != fill).any():
            assert n <= max(areas)


def test_moving_mnist_steps_are_the_papers(test_digits):
    gen = MovingMNIST(test_digits, make_backgrounds(4, "test"))
    rng = np.random.default_rng(3)
    kinds = set()
    for _ in range(40):
        seq = gen.sequence(rng)
        assert seq.frames.shape == (5, 64, 64, 3)
        for t in range(4):
            rel = relative_affine(seq.affines[t], seq.affines[t + 1])
            lin = rel[:, :2]
            if np.allclose(lin, np.eye(2)):
                kinds.add("translation")
                assert all(round(v) in TRANSLATIONS for v in rel[:, 2])
            else:
                kinds.add("rotation")
                angle = np.degrees(np.arctan2(lin[0, 1], lin[0, 0]))
                assert round(angle) in ROTATIONS and abs(angle - round(angle)) < 1e-6
        ink = np.stack([cv_ink(test_digits[seq.digit], a) for a in seq.affines])
        assert (ink.reshape(5, -1).sum(1) > 0).all()  # the digit never leaves the frame
        dark = ink > 0.999
        assert (seq.frames[dark] == 0).all()  # digit pixels blacken the background
    assert kinds == {"translation", "rotation"}


def cv_ink(digit, affine):
    return cv2.warpAffine(digit.astype(np.float32) / 255, affine, (64, 64))


def test_ground_truth_affine_matches_grid_sample_convention(test_digits):
    """Warping frame i's digit layer with the theta of T^X(i → j) gives frame j's layer."""
    gen = MovingMNIST(test_digits, make_backgrounds(2, "train"))
    seq = gen.sequence(np.random.default_rng(5), digit=7)
    # a blurred digit, so that the two bilinear resamplings compared here agree closely
    digit = cv2.GaussianBlur(test_digits[seq.digit], (0, 0), 1.5)
    for i, j in [(0, 1), (0, 4), (3, 1)]:
        theta = pixel_affine_to_theta(relative_affine(seq.affines[i], seq.affines[j]), 64)
        layer_i = torch.from_numpy(cv_ink(digit, seq.affines[i]))[None, None]
        moved = warp(layer_i, torch.from_numpy(theta).float()[None])[0, 0].numpy()
        target = cv_ink(digit, seq.affines[j])
        wrong = np.linalg.inv(np.vstack([theta, [0, 0, 1]]))[:2]  # the opposite convention
        moved_wrong = warp(layer_i, torch.from_numpy(wrong).float()[None])[0, 0].numpy()
        err = np.abs(moved - target).mean()
        assert err < 0.4 * np.abs(layer_i[0, 0].numpy() - target).mean()
        assert err < 0.4 * np.abs(moved_wrong - target).mean()
