"""Model → ONNX (engine.export_onnx), checked with onnxruntime against torch on the same inputs."""

import json

import numpy as np
import onnxruntime as ort
import torch
from conftest import run_module

from engine import checkpoint
from engine.export_onnx import GRAPHS, TOLERANCE, _grid, export
from engine.model import ModelConfig, SceneModel


def test_the_exported_grid_is_affine_grid():
    theta = torch.tensor([[[0.8, 0.2, 0.1], [-0.3, 1.1, -0.2]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    want = torch.nn.functional.affine_grid(theta, [2, 4, 7, 7], align_corners=False)
    assert torch.allclose(_grid(theta, 7), want, atol=1e-6)


def test_the_builtin_model_renders_the_same_in_onnxruntime(tmp_path):
    """Every graph of the model that ships agrees with torch within 1/255 (the real weights: a
    frame another program renders looks as ours); then h runs from the files alone."""
    out = tmp_path / "onnx"
    done = run_module("engine.export_onnx", "builtin", "--out", str(out))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "model.json").read_text())
    assert sorted(manifest["graphs"]) == sorted(GRAPHS) and manifest["opset"] >= 16
    for name, graph in manifest["graphs"].items():
        assert (out / graph["file"]).is_file()
        assert graph["max_difference"] <= TOLERANCE, name
    # a frame of h through onnxruntime alone, on other inputs than the export's, as torch renders it
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL)
    s = manifest["image_size"]
    x = torch.rand(4, 3, 3, s, s, generator=torch.Generator().manual_seed(7))  # 4 inputs of 3
    session = ort.InferenceSession(str(out / "render.onnx"), providers=["CPUExecutionProvider"])
    image, theta = session.run(
        None, dict(zip(["x_c", "x_t1", "x_t2", "x_b"], x.numpy(), strict=True))
    )
    with torch.no_grad():
        want, want_theta = model.eval().render(*x)
    assert image.shape == (3, 3, s, s)
    assert np.abs(image - want.numpy()).max() <= TOLERANCE
    assert np.abs(theta - want_theta.numpy()).max() < 1e-4
    # the pieces chain to the same frame (how a program keeps latents)
    run = lambda name, **feed: ort.InferenceSession(str(out / f"{name}.onnx")).run(None, feed)[0]  # noqa: E731
    z_c, z_t1, z_t2 = (run("f_c", image=v.numpy()) for v in x[:3])
    z_b = run("f_b", image=x[3].numpy())
    t = run("transform", z_t1=z_t1, z_t2=z_t2)
    chained = run("compose", z_c=z_c, theta=t, z_b=z_b)
    assert np.abs(chained - want.numpy()).max() <= TOLERANCE


def test_a_tiny_model_and_clear_errors(tmp_path, capsys):
    torch.manual_seed(0)
    model = SceneModel(ModelConfig(image_size=32, widths=(8, 16), latent_channels=16, res_blocks=1))
    manifest = export(model, tmp_path / "tiny", opset=16)
    assert manifest["checked_with"].startswith("onnxruntime") and manifest["latent"] == [16, 8, 8]
    # its T^Z pools 2×2 features "up" to 4×4: exported as matrices, still equal to torch
    assert all(g["max_difference"] <= TOLERANCE for g in manifest["graphs"].values())
    from conftest import run_main

    from engine.export_onnx import main

    code, err = run_main(main, [str(tmp_path / "missing.safetensors"), "--out",
                                str(tmp_path / "x")], capsys)  # fmt: skip
    assert code == 2 and "missing.safetensors" in err and "Traceback" not in err
    code, err = run_main(main, ["builtin", "--out", str(tmp_path / "y"), "--opset", "15"], capsys)
    assert code == 2 and "opset 16" in err
