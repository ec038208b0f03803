"""The built-in model and the demo project that ship in assets/: they work with no training."""


import zipfile

import imageio_ffmpeg
import numpy as np
import pytest
from conftest import ROOT, run_module

from engine import assets, checkpoint, demo
from engine.data import demokit as kit
from engine.data.clips import ClipReader
from engine.document import PREDICTOR_FILE, Project, ProjectError
from engine.errors import UserError
from engine.frames.director import Director, resolve_model


def test_builtin_model_ships_small_with_its_recipe():
    path = checkpoint.BUILTIN_MODEL
    assert path.is_file(), "assets/models/default.safetensors is missing"
    assert path.stat().st_size <= 10 * 2**20
    info = checkpoint.inspect(path)
    assert info.config.image_size == 64
    assert "demo kit" in info.training["trained_on"] and info.training["recipe"]


def test_demo_project_uses_the_builtin_model_and_shows_each_feature():
    project = Project.open(demo.DEMO_PROJECT)
    assert project.model is None
    assert resolve_model(project) == checkpoint.BUILTIN_MODEL
    shots = project.shots
    assert len(shots) >= 4
    assert any(s.background.clip != s.character.clip == s.motion.clip for s in shots)  # swap
    assert any(s.motion.clip != s.character.clip == s.background.clip for s in shots)  # transfer
    assert any(len({s.character.clip, s.background.clip, s.motion.clip}) == 3 for s in shots)
    assert any(s.loop == "pingpong" for s in shots)
    assert any(s.loop == "endless" for s in shots) and any(s.path for s in shots)  # issue 15
    assert any(s.extend for s in shots) and (demo.DEMO_PROJECT / PREDICTOR_FILE).is_file()
    assert project.soundtrack is not None and project.sound_path().is_file()  # issue 16
    assert any(s.beats and s.timing for s in shots)  # a shot fitted to its beats


@pytest.mark.slow  # analyses the six demo clips (about 5 s on 2 cores)
def test_demo_renders_headless_from_a_fresh_checkout(tmp_path):
    """The README's command: `python -m engine.render assets/demo/Demo.zoetrope --out demo.mp4`."""
    out = tmp_path / "demo.mp4"
    r = run_module("engine.render", str(demo.DEMO_PROJECT), "--out", str(out), "--device", "cpu")
    assert r.returncode == 0, r.stderr
    gen = imageio_ffmpeg.read_frames(str(out))
    meta = next(gen)
    frames = Project.open(demo.DEMO_PROJECT).timeline.frame_count
    assert meta["size"] == demo.SIZE and sum(1 for _ in gen) == frames
    assert "pixels mode" in r.stderr


@pytest.mark.slow  # draws the demo kit at 640×360
def test_builder_makes_the_same_kind_of_project(tmp_path):
    project = demo.build(tmp_path / "Demo.zoetrope")
    shipped = Project.open(demo.DEMO_PROJECT)
    assert [s.name for s in project.shots] == [s.name for s in shipped.shots]
    assert len(project.clips) == len(shipped.clips)
    d = Director(project, device="cpu", precision="fp32")
    assert d.model_path == checkpoint.BUILTIN_MODEL
    assert d.frame(0).shape == (360, 640, 3)  # demo.SIZE, the clips' own size
    with pytest.raises(UserError, match="already exists"):
        demo.build(tmp_path / "Demo.zoetrope")


def test_without_builtin_model_a_project_without_model_is_a_clear_error(tmp_path, monkeypatch):
    from engine.frames import director as synthesis

    monkeypatch.setattr(synthesis, "BUILTIN_MODEL", tmp_path / "none.safetensors")
    with pytest.raises(ProjectError, match="no model and no built-in model"):
        resolve_model(Project.open(demo.DEMO_PROJECT))


def test_install_model_ships_weights_only_with_what_it_was_trained_on(tmp_path):
    import torch

    from engine.model import ModelConfig, SceneModel

    model = SceneModel(ModelConfig(image_size=32, widths=(8, 16), latent_channels=16))
    opt = torch.optim.Adam(model.parameters())
    run = checkpoint.save(tmp_path / "run.safetensors", model, {"steps": 7}, opt, {"step": 7})
    assert checkpoint.inspect(run).has_training_state
    dest = demo.install_model(run, tmp_path / "default.safetensors", hardware="test box")
    info = checkpoint.inspect(dest)
    assert not info.has_training_state and info.training["steps"] == 7
    assert info.training["hardware"] == "test box" and "demo kit" in info.training["trained_on"]
    assert any("engine.train" in line for line in info.training["recipe"])


@pytest.mark.slow  # draws the demo kit at 640×360 twice
def test_demo_cli_refuses_to_overwrite_unless_told(tmp_path):
    out = tmp_path / "Demo.zoetrope"  # there already (one build, not two: the suite's time)
    out.mkdir()
    (out / "project.json").write_text("{}")
    again = run_module("engine.demo", "--out", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    replaced = run_module("engine.demo", "--out", str(out), "--replace")
    shots = len(Project.open(demo.DEMO_PROJECT).shots)
    assert replaced.returncode == 0 and f"{shots} shots" in replaced.stdout
    assert not (out / "project.json.bak").exists()


def _demo_keys():
    from engine.frames.layers import LayerCache, LayerSettings, model_key

    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    project = Project.open(demo.DEMO_PROJECT)
    paths = [project.clip_path(c) for c in project.clips]
    cache = LayerCache(seeds=None)
    return model, paths, [cache.key(p, LayerSettings(), model_key(model)) for p in paths]


def test_the_demo_clips_layers_ship_for_the_builtin_model(tmp_path, monkeypatch):
    """A first launch opens the demo's shipped layers instead of analysing its clips (issue 31):
    one seed per clip for the built-in model, current (after a change to how layers are made or
    to the model: `python -m engine.demo --layers`), opened without computing, with the frames
    decoded from the clip beside them as an analysis keeps them."""
    from engine.frames import layers as layers_mod

    model, paths, keys = _demo_keys()
    seeds = {p.stem for p in assets.DEMO_LAYERS.glob("*.zip")}
    assert seeds == set(keys), "the demo's layers are stale: python -m engine.demo --layers"

    def compute(*a, **k):
        raise AssertionError("computed, not opened from the seed")

    monkeypatch.setattr(layers_mod, "compute_layers", compute)
    cache = layers_mod.LayerCache(tmp_path)
    assert cache.cached(paths[0], model) is not None  # (a lookup takes the seed too)
    for path in paths:
        layers = cache.load(path, model)
        assert layers.folder.parent == tmp_path and len(layers) == kit.FRAMES
        first = next(ClipReader(path).frames())
        with open(layers.folder / "frames.bin", "rb") as fh:
            assert fh.read(first.nbytes) == first.tobytes()
        assert layers.matte(0).any()


def test_a_damaged_or_foreign_seed_is_computed_instead(tmp_path):
    """A seed that is not a zip, or holds a name a layers folder does not (a path out of the
    cache), is passed over: the layers are computed, nothing is written outside the cache."""
    from engine.frames.layers import LayerCache, LayerSettings, model_key

    model, paths, keys = _demo_keys()
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / f"{keys[2]}.zip").write_bytes(b"not a zip")
    with zipfile.ZipFile(seeds / f"{keys[3]}.zip", "w") as z:
        z.writestr("meta.json", "{}")
        z.writestr("../evil.txt", "x")
    cache = LayerCache(tmp_path / "cache", seeds=seeds)
    for k in (2, 3):
        progress: list[int] = []
        layers = cache.load(paths[k], model, progress=lambda d, t, seen=progress: seen.append(d))
        assert progress and len(layers) == kit.FRAMES  # computed
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "cache" / "evil.txt").exists()
    assert cache.key(paths[3], LayerSettings(), model_key(model)) == keys[3]


@pytest.mark.slow  # analyses one demo clip (about 3 s on 2 cores)
def test_a_shipped_seed_is_what_the_analysis_makes(tmp_path):
    from engine.frames.layers import LayerCache

    model, paths, _ = _demo_keys()
    shipped = LayerCache(tmp_path / "a").load(paths[0], model)
    made = LayerCache(tmp_path / "b", seeds=None).load(paths[0], model)
    assert np.abs(shipped.plate.astype(int) - made.plate).mean() < 0.5
    for k in (0, len(made) // 2, len(made) - 1):
        a, b = shipped.matte(k) > 127, made.matte(k) > 127
        assert (a & b).sum() >= 0.98 * (a | b).sum()


def test_a_shot_as_shot_is_its_footage_before_the_model_loads():
    """engine.frames.poster: the demo's first shot (as shot, pixels mode) is its clip's frames
    fitted to the output size — what the Director renders, at over 40 dB — made without
    torch; any other shot, or model mode, is left to the Director."""
    import subprocess
    import sys

    code = "import sys, engine.frames.poster; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0, \
        "engine.frames.poster imports torch"
    from engine.frames.poster import footage_frame

    project = Project.open(demo.DEMO_PROJECT)
    starts = project.timeline.starts
    director = Director(project, device="cpu", precision="fp32")
    for k in (0, 7, starts[1] - 1):
        mine = footage_frame(project, k).astype(float)
        mse = np.mean((mine - director.frame(k)) ** 2)
        assert mse == 0 or 10 * np.log10(255**2 / mse) >= 40
    assert footage_frame(project, starts[1]) is None  # a background swap
    assert footage_frame(project, 0, "background") is None
    project.set_render_mode("model")
    assert footage_frame(project, 0) is None
