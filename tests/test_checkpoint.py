import json
import struct

import pytest
import torch
from safetensors.torch import save_file

from engine import checkpoint
from engine.errors import CheckpointError
from engine.model import ModelConfig, SceneModel


def _model(size=32):
    torch.manual_seed(1)
    return SceneModel(ModelConfig(image_size=size, widths=(8, 16), latent_channels=16))


def test_round_trip_gives_the_same_model(tmp_path):
    model = _model()
    path = checkpoint.save(tmp_path / "m.safetensors", model, {"steps": 7, "data": {"clips": 2}})
    loaded, info = checkpoint.load(path)
    assert info.config == model.config
    assert info.training["steps"] == 7 and info.training["engine_version"]
    assert not info.has_training_state
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded.render(x, x, x, x)[0], model.render(x, x, x, x)[0])


def test_header_is_plain_json_and_weights_are_safetensors(tmp_path):
    path = checkpoint.save(tmp_path / "m.safetensors", _model(), {"steps": 1})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header["__metadata__"]
    assert meta["format"] == "zoetrope-model"
    assert json.loads(meta["model_config"])["image_size"] == 32
    assert all(k.startswith("model.") for k in header if k != "__metadata__")


def test_training_state_round_trip(tmp_path):
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(2, 3, 32, 32)
    model(x, x.flip(0))["scene"].backward()
    opt.step()
    rng = torch.get_rng_state()
    path = checkpoint.save(
        tmp_path / "c.safetensors",
        model,
        {},
        opt,
        {"step": 1, "samplers": [{"a": 1}], "torch_rng": rng},
    )
    opt2 = torch.optim.Adam(_model().parameters(), lr=5.0)
    state = checkpoint.load_training_state(path, opt2)
    assert state["step"] == 1 and state["samplers"] == [{"a": 1}]
    assert torch.equal(state["torch_rng"], rng)
    a, b = opt.state_dict(), opt2.state_dict()
    assert b["param_groups"][0]["lr"] == 1e-3
    for i in a["state"]:
        torch.testing.assert_close(a["state"][i]["exp_avg_sq"], b["state"][i]["exp_avg_sq"])


def test_missing_damaged_and_foreign_files_give_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        checkpoint.load(tmp_path / "none.safetensors")
    good = checkpoint.save(tmp_path / "m.safetensors", _model(), {})
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated.safetensors"):
        checkpoint.load(truncated)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x80\x04K\x01." * 10)  # a pickle, never executed
    with pytest.raises(CheckpointError, match="garbage.safetensors"):
        checkpoint.load(garbage)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(CheckpointError, match="not a Zoetrope model"):
        checkpoint.load(foreign)


def test_incompatible_and_future_files_are_refused(tmp_path):
    path = checkpoint.save(tmp_path / "m.safetensors", _model(), {})
    tensors = checkpoint._read_tensors(path, "")
    meta = checkpoint._open_header(path)
    wrong = dict(meta, model_config=json.dumps(ModelConfig(image_size=32).to_dict()))
    save_file(tensors, str(tmp_path / "wrong.safetensors"), metadata=wrong)
    with pytest.raises(CheckpointError, match="do not match"):
        checkpoint.load(tmp_path / "wrong.safetensors")
    save_file(
        tensors, str(tmp_path / "future.safetensors"), metadata=dict(meta, format_version="99")
    )
    with pytest.raises(CheckpointError, match="newer Zoetrope"):
        checkpoint.load(tmp_path / "future.safetensors")
    with pytest.raises(CheckpointError, match="no training state"):
        checkpoint.load_training_state(path, torch.optim.Adam(_model().parameters()))


def test_every_header_problem_is_one_clear_reason(tmp_path):
    """Issue 13.7: tracebacks for format_version "one" and a negative width; a cut-off reason
    ("Error(s) in loading state_dict for SceneModel:") for mismatched weights."""
    path = checkpoint.save(tmp_path / "m.safetensors", _model(), {})
    tensors = checkpoint._read_tensors(path, "")
    meta = checkpoint._open_header(path)

    def variant(name, **header):
        save_file(tensors, str(tmp_path / name), metadata=dict(meta, **header))
        return tmp_path / name

    config = json.loads(meta["model_config"])
    cases = [
        (variant("one.safetensors", format_version="one"),
         r"damaged model header \(format_version 'one' is not a number\)"),
        (variant("neg.safetensors", model_config=json.dumps(dict(config, widths=[-8, 16]))),
         r"damaged model header \(widths must be a whole number 1…4096 \(got -8\)\)"),
        (variant("deep.safetensors", model_config="[" * 50_000 + "]" * 50_000),
         r"damaged model header \(nested too deeply\)"),
        (variant("wide.safetensors", model_config=json.dumps(dict(config, widths=[8, 32]))),
         r"weights do not match its model config \(.*of the wrong shape, e\.g\. .* is \[16, "),
    ]  # fmt: skip
    for bad, reason in cases:
        for check in (checkpoint.verify, checkpoint.load):
            with pytest.raises(CheckpointError, match=f"{bad.name}: {reason}"):
                check(bad)
    fewer = {k: v for k, v in tensors.items() if not k.startswith("model.g.")}
    save_file(fewer, str(tmp_path / "fewer.safetensors"), metadata=meta)
    with pytest.raises(CheckpointError, match=r"weights do not match .*\d+ missing: "):
        checkpoint.verify(tmp_path / "fewer.safetensors")
