"""`engine.evaluate_kit` on a tiny model: metrics computed, ground truths and baselines right."""

import json

import numpy as np
import pytest
import torch
from conftest import run_module

from engine import checkpoint
from engine.evaluate_kit import KitEvaluator
from engine.model import ModelConfig, SceneModel


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch.manual_seed(0)
    cfg = ModelConfig(image_size=32, widths=(8, 16), latent_channels=16, res_blocks=1)
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    return checkpoint.save(path, SceneModel(cfg), {"steps": 0})


def test_examples_hold_what_the_protocol_says(tiny_model):
    ev = KitEvaluator(str(tiny_model), device="cpu")
    ex = ev.draw_example(np.random.default_rng(1))
    assert ex["x1i"].shape == (32, 32, 3)
    # clip 2 performs the same motion: its frames differ from clip 1's only by who and where
    assert not np.array_equal(ex["x1i"], ex["x2i"])
    # the swap truth is clip 1's character at j on clip 2's background: where clip 1's
    # character is absent it shows clip 2's background, which x2j shows where C is absent too
    far = (ex["x1j"] == ex["bg1"]).all(axis=2) & (ex["gt_swap"] == ex["x2j"]).all(axis=2)
    assert far.mean() > 0.5
    errors, _ = ev.run_batch([ex])
    assert errors["video_frames"][0] == pytest.approx(
        ((ex["x1i"] / 255.0 - ex["x1j"] / 255.0) ** 2).mean(), rel=1e-4)
    assert errors["no_object"][0] == pytest.approx(
        ((ex["bg1"] / 255.0 - ex["x1j"] / 255.0) ** 2).mean(), rel=1e-4)


def test_test_split_is_held_out(tiny_model):
    ev = KitEvaluator(str(tiny_model), device="cpu")
    assert all(c.name.startswith("test-") for c in ev.cast)
    assert all(b.name.startswith("test-") for b in ev.sets)
    held_in = KitEvaluator(str(tiny_model), device="cpu", split="train")
    assert all(c.name.startswith("train-") for c in held_in.cast)


def test_cli_writes_results_and_figure(tiny_model, tmp_path):
    r = run_module("engine.evaluate_kit", str(tiny_model), "--out", str(tmp_path / "r"),
                   "--examples", "24", "--device", "cpu")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Animation transfer / Video frames" in r.stdout
    res = json.loads((tmp_path / "r" / "results.json").read_text())
    assert res["mse"]["transfer"]["n"] == 24 and np.isfinite(res["mse"]["swap"]["mean"])
    assert sum(g["examples"] for g in res["by_kind"].values()) == 24
    assert (tmp_path / "r" / "examples.png").stat().st_size > 1000


def test_cli_bad_model_is_one_line(tmp_path, capsys):
    from conftest import run_main

    from engine.evaluate_kit import main

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    code, err = run_main(main, [str(bad), "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "bad.safetensors" in err and "Traceback" not in err
