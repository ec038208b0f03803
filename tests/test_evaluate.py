"""The §4.3 / §4.6 evaluator: ground truth, baselines, statistics, the CLI on a tiny model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import run_module

from engine import checkpoint
from engine.data.clips import fit_frame
from engine.data.synthetic import (
    MovingMNIST,
    apply_motion,
    make_backgrounds,
    own_centre_motion,
    pixel_affine_to_theta,
    relative_affine,
)
from engine.evaluate import (
    EvalConfig,
    Evaluator,
    r2_linear,
    ratio_ci,
    rotation_angle,
    summarize,
)
from engine.model import ModelConfig, SceneModel


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    cfg = ModelConfig(image_size=32, widths=(8, 16), latent_channels=16, res_blocks=1)
    checkpoint.save(path, SceneModel(cfg), {"steps": 0})
    return path


def test_ground_truth_renderer_matches_the_generator(test_digits):
    gen = MovingMNIST(test_digits, make_backgrounds(4, "test"))
    rng = np.random.default_rng(1)
    for _ in range(20):
        seq = gen.sequence(rng)
        i, j = rng.choice(5, 2, replace=False)
        # the digit of frame i moved by its own video's motion i → j is exactly frame j
        moved = apply_motion(seq.affines[i], seq.affines[j], seq.affines[i])
        np.testing.assert_allclose(moved, seq.affines[j], atol=1e-9)
        np.testing.assert_array_equal(gen.render(seq.digit, seq.background, moved), seq.frames[j])
        np.testing.assert_allclose(own_centre_motion(*seq.affines[[i, j, i]]), seq.affines[j],
                                   atol=1e-9)  # fmt: skip
        # another placement: the same rotation, about its own centre, and the same centre shift
        other = gen.trajectory(rng)[2][0]
        moved = own_centre_motion(seq.affines[i], seq.affines[j], other)
        centre = np.array([13.5, 13.5, 1.0])
        np.testing.assert_allclose(moved[:, :2] @ np.linalg.inv(other[:, :2]),
                                   relative_affine(seq.affines[i], seq.affines[j])[:, :2],
                                   atol=1e-9)  # fmt: skip
        np.testing.assert_allclose(moved @ centre - other @ centre,
                                   seq.affines[j] @ centre - seq.affines[i] @ centre, atol=1e-9)


def test_examples_and_baselines_are_what_they_claim(tiny_model, mnist_dir):
    ev = Evaluator(EvalConfig(model=str(tiny_model), mnist=str(mnist_dir), device="cpu"))
    rng = np.random.default_rng(0)
    examples = [ev.draw_example(rng) for _ in range(24)]
    errors, t = ev.run_batch(examples)
    def at_model_size(frame):  # the model runs at 32 px, the protocol renders at 64
        return fit_frame(frame, 32).astype(np.float64) / 255

    for e, vf, no in zip(examples, errors["video_frames"], errors["no_object"], strict=True):
        # "no object": the frame differs from its background only where the digit's ink is
        ink = (e["x1j"] != e["bg1"]).any(axis=2)
        assert 0 < ink.mean() < 0.3
        x1i, x1j, bg = (at_model_size(e[k]) for k in ("x1i", "x1j", "bg1"))
        assert no == pytest.approx(((x1j - bg) ** 2).mean(), rel=1e-4)
        # "video frames": two different frames of the same video
        assert not np.array_equal(e["x1i"], e["x1j"])
        assert vf == pytest.approx(((x1i - x1j) ** 2).mean(), rel=1e-4) and vf > 0
    # background truth keeps video 1's digit where it was at j: same ink mask as x¹_j
    for e in examples:
        dark_gt = e["gt_background"].max(axis=2) < e["x2j"].max(axis=2) - 1
        dark_x1j = e["x1j"].max(axis=2) < e["bg1"].max(axis=2) - 1
        assert (dark_gt == dark_x1j).mean() > 0.97
    assert t["transformation"].shape == (24, 3, 32, 32)
    assert all(np.isfinite(v).all() and (v >= 0).all() for v in errors.values())


def test_statistics():
    rng = np.random.default_rng(0)
    v = rng.exponential(1.0, 4000)
    s = summarize(v, rng, 500)
    assert s["ci95"][0] < s["mean"] < s["ci95"][1] and s["ci95"][1] - s["ci95"][0] < 0.15
    assert s["median"] == pytest.approx(np.log(2), abs=0.06)
    r = ratio_ci(0.3 * v, v, rng, 200)
    assert r["ratio"] == pytest.approx(0.3) and r["ci95"] == pytest.approx([0.3, 0.3])
    x = rng.normal(size=(500, 6))
    assert r2_linear(x, x @ rng.normal(size=(6, 6)) + 3)["r2"] == pytest.approx(1.0)
    assert r2_linear(x, rng.normal(size=(500, 6)))["r2"] < 0.05


def test_rotation_angle_and_the_affine_convention(test_digits):
    # nearest rotation of a scaled and slightly sheared rotation keeps its angle
    a = np.radians(20)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    m = np.zeros((1, 2, 3))
    m[0, :, :2] = 3.0 * rot @ np.array([[1.0, 0.05], [0.0, 1.0]])
    assert rotation_angle(m)[0] == pytest.approx(20, abs=2)
    # an ideal T^Z is the theta of the true motion: perfectly linear in it, not in the raw map
    gen = MovingMNIST(test_digits, make_backgrounds(1, "test"))
    rng = np.random.default_rng(0)
    fwd, tx = [], []
    for _ in range(300):
        _, _, aff = gen.trajectory(rng, 0, 0)
        i, j = rng.choice(5, 2, replace=False)
        fwd.append(relative_affine(aff[i], aff[j]))
        tx.append(pixel_affine_to_theta(fwd[-1], 64))
    fwd, tx = np.stack(fwd).reshape(-1, 6), np.stack(tx).reshape(-1, 6)
    tz = tx * 1.7 + 0.1  # any fixed affine re-scaling of theta
    assert r2_linear(tx, tz)["r2"] == pytest.approx(1.0)
    assert r2_linear(fwd, tz)["r2"] < 0.995  # a perfect T^Z, compared naively, misses 0.995


@pytest.mark.slow
def test_cli_writes_results_figures_and_table(tiny_model, mnist_dir, tmp_path):
    out = tmp_path / "eval"
    args = [str(tiny_model), "--mnist", str(mnist_dir), "--out", str(out), "--examples", "60",
            "--pairs", "50", "--bootstrap", "100", "--batch-size", "32",
            "--device", "cpu"]  # fmt: skip
    r = run_module("engine.evaluate", *args)
    assert r.returncode == 0, r.stderr
    assert "Transformation / Video frames" in r.stdout and "T^Z digit 8" in r.stdout
    res = json.loads((out / "results.json").read_text())
    assert set(res["mse"]) == {"transformation", "video_frames", "background", "no_object",
                               "transformation_own_centre"}  # fmt: skip
    assert res["mse"]["transformation"]["n"] == 60
    for digit in ("digit_5", "digit_8"):
        a = res["tz_analysis"][digit]
        assert a["pairs"] == 50 and len(a["r2_per_output"]) == 6 and np.isfinite(a["r2"])
    assert "exact MNIST test" in res["protocol"]["digits_source"]
    for name in ("boxplot", "layers", "manipulation", "tz_digit5", "tz_digit8"):
        assert (out / f"{name}.png").stat().st_size > 2000
    with np.load(out / "per_example_mse.npz") as z:
        assert z["background"].shape == (60,)
    # the same seed gives the same numbers
    r2 = run_module("engine.evaluate", *args[:4], str(tmp_path / "again"), *args[5:],
                    "--no-figures")  # fmt: skip
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again["mse"] == res["mse"] and r2.returncode == 0


@pytest.mark.parametrize("case", ["missing", "garbage"])
def test_bad_model_file_is_one_clear_line(tmp_path, mnist_dir, capsys, case):
    from conftest import run_main

    from engine.evaluate import main

    path = tmp_path / "model.safetensors"
    if case == "garbage":
        path.write_bytes(b"not a model at all")
    code, err = run_main(main, [str(path), "--mnist", str(mnist_dir), "--out", str(tmp_path / "o")],
                         capsys)  # fmt: skip
    assert code == 2 and "Traceback" not in err
    assert err.strip().startswith("error: ") and str(path) in err
