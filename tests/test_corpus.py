"""A corpus of malformed inputs, made at test time, run through every entry point: the train,
render and evaluate commands, Project.open / import_clip / set_model, and the studio's open,
import and Load Model. Each run must end in exit status 2 or one clear exception — no traceback
— whose message names the file; it may write nothing outside its target, and it may change
nothing the user had. (Issue 13; the guarantees are written down in docs/RELIABILITY.md.)"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, TINY, assert_one_clear_line, png_claiming, run_main, snapshot
from PIL import Image
from safetensors.torch import save_file

from engine import checkpoint
from engine.document import SCHEMA_VERSION, Project
from engine.errors import UserError
from engine.model import ModelConfig, SceneModel

TINY_CONFIG = ModelConfig(image_size=32, widths=(8, 16), latent_channels=16, res_blocks=1)
MARKER = "pickle_ran.txt"


# -- the corpus ------------------------------------------------------------------------------------
class _Trap:
    """Unpickling this writes a marker file: the proof that a file's code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code from a model file ran"))


def bad_clips(root: Path, good_mp4: Path) -> dict[str, Path]:
    import imageio_ffmpeg

    root.mkdir()
    c = {}
    c["empty"] = root / "empty.mp4"
    c["empty"].write_bytes(b"")
    c["garbage"] = root / "garbage.mp4"
    c["garbage"].write_bytes(np.random.default_rng(0).bytes(3000))
    c["truncated"] = root / "truncated.mp4"
    c["truncated"].write_bytes(good_mp4.read_bytes()[:300])
    c["sound only"] = root / "sound.mp4"
    sine = ["-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "aac"]
    ffmpeg = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error"]
    subprocess.run([*ffmpeg, *sine, str(c["sound only"])], check=True)
    c["pipe"] = root / "pipe.mp4"
    os.mkfifo(c["pipe"])
    c["bomb"] = root / "bomb.png"
    png_claiming(c["bomb"], 20_000, 20_000)
    c["zero png"] = root / "zero.png"
    c["zero png"].write_bytes(b"")
    c["text as jpg"] = root / "notes.jpg"
    c["text as jpg"].write_text("not a picture")
    c["tiny"] = root / "tiny.png"
    Image.new("RGB", (4, 4)).save(c["tiny"])
    c["mixed sizes"] = root / "mixed"
    c["mixed sizes"].mkdir()
    Image.new("RGB", (16, 16)).save(c["mixed sizes"] / "f1.png")
    Image.new("RGB", (20, 16)).save(c["mixed sizes"] / "f2.png")
    c["no frames"] = root / "nothing"
    c["no frames"].mkdir()
    (c["no frames"] / "readme.txt").write_text("no frames here")
    c["folder named .mp4"] = root / "folder.mp4"
    c["folder named .mp4"].mkdir()
    return c


def _model_file(path: Path, meta: dict | None = None, config: ModelConfig | None = None,
                weights: dict | None = None) -> Path:  # fmt: skip
    model = SceneModel(config or TINY_CONFIG)
    tensors = weights if weights is not None else {
        f"model.{k}": v.contiguous() for k, v in model.state_dict().items()
    }  # fmt: skip
    header = {
        "format": "zoetrope-model",
        "format_version": "1",
        "model_config": json.dumps((config or TINY_CONFIG).to_dict()),
        "training": "{}",
    }
    header.update(meta or {})  # fmt: skip
    save_file(tensors, str(path), metadata=header)
    return path


def bad_models(root: Path, marker: Path) -> dict[str, Path]:
    root.mkdir()
    m = {}
    m["empty"] = root / "empty.safetensors"
    m["empty"].write_bytes(b"")
    m["garbage"] = root / "garbage.safetensors"
    m["garbage"].write_bytes(np.random.default_rng(1).bytes(500))
    m["pickle"] = root / "pickle.safetensors"
    m["pickle"].write_bytes(pickle.dumps(_Trap(str(marker))))
    m["not ours"] = _model_file(root / "other.safetensors", {"format": "somebody-else"})
    m["format_version one"] = _model_file(root / "one.safetensors", {"format_version": "one"})
    m["newer"] = _model_file(root / "newer.safetensors", {"format_version": "99"})
    config = dict(TINY_CONFIG.to_dict(), widths=[-8, 16])
    m["negative width"] = _model_file(root / "negative.safetensors",
                                      {"model_config": json.dumps(config)})  # fmt: skip
    config = dict(TINY_CONFIG.to_dict(), widths=[10**9])
    m["huge width"] = _model_file(root / "huge.safetensors", {"model_config": json.dumps(config)})
    m["config not json"] = _model_file(root / "cfg.safetensors", {"model_config": "{widths"})
    deep = "[" * 100_000 + "]" * 100_000
    m["deep config"] = _model_file(root / "deep.safetensors", {"model_config": deep})
    bigger = ModelConfig(image_size=32, widths=(16, 32), latent_channels=16, res_blocks=1)
    weights = {f"model.{k}": v for k, v in SceneModel(bigger).state_dict().items()}
    m["mismatched weights"] = _model_file(root / "mismatched.safetensors", weights=weights)
    some = dict(list({f"model.{k}": v for k, v in
                      SceneModel(TINY_CONFIG).state_dict().items()}.items())[:5])  # fmt: skip
    m["missing weights"] = _model_file(root / "missing.safetensors", weights=some)
    state = {f"model.{k}": v for k, v in SceneModel(TINY_CONFIG).state_dict().items()}
    nan = {k: v.clone().fill_(float("nan")) for k, v in state.items()}
    m["NaN weights"] = _model_file(root / "nan.safetensors", weights=nan)
    whole = {k: v.round().to(torch.int32) for k, v in state.items()}
    m["integer weights"] = _model_file(root / "int.safetensors", weights=whole)
    m["trained at another size"] = _model_file(root / "size.safetensors",
                                               {"training": json.dumps({"image_size": 128})})
    return m


def good_project(root: Path, clip: Path, model: Path) -> Path:
    p = Project.create(root / "Good")
    c = p.import_clip(clip)
    p.set_model(model)
    p.add_shot((c.id, 0), (c.id, 1), c.id)
    p.save()
    return p.root


def bad_projects(root: Path, good: Path, bad_model: Path) -> dict[str, Path]:
    root.mkdir()
    text = (good / "project.json").read_text()
    doc = json.loads(text)
    cases = {
        "truncated": text[: len(text) // 2],
        "a list": "[1, 2, 3]",
        "nested 200,000 deep": "[" * 200_000 + "]" * 200_000,
        "schema 1 over a version-3 body": text.replace(
            f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 1'
        ),
        "10**30 frames": text.replace('"duration": ', '"duration": 1' + "0" * 30 + ', "x": '),
        "NaN fps": text.replace('"fps": 12.0', '"fps": NaN').replace('"fps": 8.0', '"fps": NaN'),
        "not UTF-8": b"\xff\xfe\x00 not text",
        "empty": "",
        "clip outside": json.dumps(
            dict(doc, clips=[dict(doc["clips"][0], source="../../outside.mp4")])
        ),
        "schema 99": text.replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 99'),
    }
    out = {}
    for i, (name, body) in enumerate(cases.items()):
        folder = root / f"P{i}.zoetrope"
        shutil.copytree(good, folder)
        f = folder / "project.json"
        f.write_bytes(body) if isinstance(body, bytes) else f.write_text(body)
        out[name] = folder
    folder = root / "Missing media.zoetrope"
    shutil.copytree(good, folder)
    for media in (folder / "media").iterdir():
        media.unlink()
    out["missing media"] = folder
    folder = root / "Bad model.zoetrope"
    shutil.copytree(good, folder)
    for model in (folder / "models").iterdir():
        shutil.copyfile(bad_model, model)
    out["its model damaged"] = folder
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, clip_dir):
    root = tmp_path_factory.mktemp("corpus")
    marker = root / MARKER
    good_model = root / "good.safetensors"
    torch.manual_seed(0)
    checkpoint.save(good_model, SceneModel(TINY_CONFIG), {"steps": 0})
    clips = bad_clips(root / "clips", clip_dir / "clip_0.mp4")
    models = bad_models(root / "models", marker)
    good = good_project(root / "good", clip_dir / "clip_0.mp4", good_model)
    projects = bad_projects(root / "projects", good, models["format_version one"])
    return {"root": root, "clips": clips, "models": models, "projects": projects,
            "good_model": good_model, "good_project": good, "marker": marker,
            "good_clip": clip_dir / "clip_0.mp4"}  # fmt: skip


CLIP_CASES = ["empty", "garbage", "truncated", "sound only", "pipe", "bomb", "zero png",
              "text as jpg", "tiny", "mixed sizes", "no frames", "folder named .mp4"]  # fmt: skip
MODEL_CASES = ["empty", "garbage", "pickle", "not ours", "format_version one", "newer",
               "negative width", "huge width", "config not json", "deep config",
               "mismatched weights", "missing weights", "NaN weights", "integer weights",
               "trained at another size"]  # fmt: skip
PROJECT_CASES = ["truncated", "a list", "nested 200,000 deep", "schema 1 over a version-3 body",
                 "10**30 frames", "NaN fps", "not UTF-8", "empty", "schema 99",
                 "its model damaged"]  # fmt: skip
OFFLINE_CASES = ["clip outside", "missing media"]
"""Projects whose project.json reads but one part's file cannot be used: they open, that part
offline and named, nothing read outside the folder (issue 27)."""


# -- the engine's Python API ---------------------------------------------------------------------
def test_project_open_refuses_every_damaged_project(corpus):
    before = snapshot(corpus["root"])
    for name in PROJECT_CASES:
        path = corpus["projects"][name]
        if name == "its model damaged":  # the project is fine; its model is checked on use
            assert Project.open(path).model is not None
            continue
        with pytest.raises(UserError) as e:
            Project.open(path)
        assert path.name in str(e.value), (name, str(e.value))
    for name in OFFLINE_CASES:
        opened = Project.open(corpus["projects"][name])
        [part] = opened.offline()
        assert part.what == "clip" and any(part.source in n for n in opened.notes), name
    assert snapshot(corpus["root"]) == before


def test_import_clip_refuses_every_bad_clip_and_copies_nothing(corpus, tmp_path):
    project = Project.create(tmp_path / "Film")
    before = snapshot(corpus["root"])
    for name in CLIP_CASES:
        path = corpus["clips"][name]
        with pytest.raises(UserError) as e:
            project.import_clip(path)
        assert path.name in str(e.value), (name, str(e.value))
        assert list((project.root / "media").iterdir()) == [], name
    assert project.clips == {} and snapshot(corpus["root"]) == before


def test_set_model_refuses_every_bad_model_and_never_runs_its_code(corpus, tmp_path):
    project = Project.create(tmp_path / "Film")
    before = snapshot(corpus["root"])
    for name in MODEL_CASES:
        path = corpus["models"][name]
        with pytest.raises(UserError) as e:
            project.set_model(path)
        assert path.name in str(e.value), (name, str(e.value))
        assert project.model is None and not (project.root / "models").exists(), name
    assert not corpus["marker"].exists()
    assert snapshot(corpus["root"]) == before


# -- the commands --------------------------------------------------------------------------------
def test_render_refuses_every_damaged_project_and_model(corpus, tmp_path, capsys):
    from engine.render import main

    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(corpus["root"])
    for name in PROJECT_CASES:
        path = corpus["projects"][name]
        code, err = run_main(main, [str(path), "--out", str(out / "film.mp4"), "--progress",
                                    "none", "--device", "cpu"], capsys)  # fmt: skip
        assert code == 2, (name, err)
        if name == "its model damaged":  # the project's own model file is named
            assert_one_clear_line(err, "models/good.safetensors")
            assert "format_version 'one' is not a number" in err
        else:
            assert_one_clear_line(err, path)
    for name in OFFLINE_CASES:  # rendered, the missing clip's shots as placeholders, and said
        path = corpus["projects"][name]
        target = out / f"{name}.mp4"
        code, err = run_main(main, [str(path), "--out", str(target), "--progress", "none",
                                    "--device", "cpu"], capsys)  # fmt: skip
        assert code == 0 and target.is_file(), (name, err)
        assert "offline" in err and "drawn as a placeholder" in err and "Traceback" not in err
        target.unlink()
    for name in MODEL_CASES:
        path = corpus["models"][name]
        argv = [str(corpus["good_project"]), "--out", str(out / "film.mp4"), "--model", str(path)]
        code, err = run_main(main, [*argv, "--progress", "none"], capsys)
        assert code == 2, (name, err)
        assert_one_clear_line(err, path)
    assert list(out.iterdir()) == [] and snapshot(corpus["root"]) == before
    assert not corpus["marker"].exists()


def test_train_refuses_every_bad_clip_and_model(corpus, tmp_path, capsys):
    from engine.train import main

    before = snapshot(corpus["root"])
    run = tmp_path / "run"
    for name in CLIP_CASES:
        path = corpus["clips"][name]
        code, err = run_main(main, ["--data", str(path), "--steps", "1", "--out", str(run),
                                    "--progress", "none", *TINY], capsys)  # fmt: skip
        assert code == 2, (name, err)
        assert_one_clear_line(err, path)
    for name in MODEL_CASES:
        path = corpus["models"][name]
        code, err = run_main(main, ["--data", str(corpus["good_clip"]), "--init", str(path),
                                    "--steps", "1", "--out", str(run), "--progress", "none"],
                             capsys)  # fmt: skip
        assert code == 2, (name, err)
        assert_one_clear_line(err, path)
    assert not run.exists() and snapshot(corpus["root"]) == before
    assert not corpus["marker"].exists()


def test_evaluate_refuses_every_bad_model(corpus, tmp_path, capsys, mnist_dir):
    from engine.evaluate import main

    before = snapshot(corpus["root"])
    out = tmp_path / "eval"
    for name in MODEL_CASES:
        path = corpus["models"][name]
        code, err = run_main(main, [str(path), "--mnist", str(mnist_dir), "--out", str(out),
                                    "--examples", "4", "--device", "cpu"], capsys)  # fmt: skip
        assert code == 2, (name, err)
        assert_one_clear_line(err, path)
    assert not out.exists() and snapshot(corpus["root"]) == before


# -- a full disk (a real one: a 64 KB tmpfs in a user namespace, where the system allows it) -----
def _on_a_full_disk(command: str, tmp_path: Path) -> subprocess.CompletedProcess:
    disk = tmp_path / "disk"
    disk.mkdir(exist_ok=True)  # each run mounts its own empty tmpfs over it
    script = f"mount -t tmpfs -o size=64k none {disk} && cd {ROOT} && {command}; echo rc=$?; "
    script += f"ls -A -R {disk}"
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    mount = "mount -t tmpfs -o size=64k none /mnt"
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount],
                           capture_output=True)  # fmt: skip
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or not _can_mount(),
                    reason="needs user namespaces to mount a small tmpfs")  # fmt: skip
def test_a_full_disk_is_one_line_and_leaves_a_usable_state(corpus, tmp_path):
    """Issue 13.7: `engine.train --out` on a full disk ended in a SafetensorError traceback; a
    render with no space said "streams received no packets"."""
    py = sys.executable
    disk = tmp_path / "disk"
    demo = ROOT / "assets" / "demo" / "Demo.zoetrope"  # 168 frames: more than 64 KB as MP4
    r = _on_a_full_disk(f"{py} -m engine.render {demo} --out {disk}/film.mp4 --scale 4 "
                        "--progress none", tmp_path)  # fmt: skip
    assert "rc=2" in r.stdout and "Traceback" not in r.stderr, r.stderr
    assert f"error: {disk}/film.mp4: writing failed: the disk is full" in r.stderr
    assert r.stdout.split("rc=2", 1)[1].split(":", 1)[1].strip() == ""  # the disk is left empty
    tiny = " ".join(TINY)
    r = _on_a_full_disk(f"{py} -m engine.train --data {corpus['good_clip']} --steps 2 "
                        f"--out {disk}/run --progress none {tiny}", tmp_path)  # fmt: skip
    assert "rc=2" in r.stdout and "Traceback" not in r.stderr, r.stderr
    assert "No space left on device" in r.stderr and r.stderr.startswith("error: ")
    # issue 27: a headless capture on a disk that fills: one line naming it, the frames kept
    make = f"{py} -c \"from engine.document import Project; Project.create('{disk}/P')\""
    r = _on_a_full_disk(f"{make} && {py} -m engine.capture {disk}/P.zoetrope --camera "
                        f"{corpus['good_clip']} --every 0.01 --frames 500 --take Night",
                        tmp_path)  # fmt: skip
    assert "rc=2" in r.stdout and "Traceback" not in r.stderr, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "the disk is full" in errors[0] and "Night" in errors[0], errors
    assert "frame_00001.png" in r.stdout  # the captures made are still on the disk


# -- the studio ----------------------------------------------------------------------------------
def test_the_studio_names_every_bad_file_and_changes_nothing(corpus, qtbot, make_window, tmp_path):
    from tests.conftest import loaded, messages

    w = make_window()
    before = snapshot(corpus["root"])
    for name in PROJECT_CASES:
        if name == "its model damaged":
            continue
        path = corpus["projects"][name]
        assert not w.life.open_project(path), name
        assert path.name in w.life.open_error and w.messages, (name, w.life.open_error)
        w.messages[-1].close()
    for name in OFFLINE_CASES:  # open, the part named offline
        assert w.life.open_project(corpus["projects"][name]), name
        part = w.session.project.offline()[0]
        assert "offline" in messages(w) and part.source in messages(w), name
        for box in list(w.messages):
            box.close()
    # a project opens although its model is damaged: the status bar and a message say so
    assert w.life.open_project(corpus["projects"]["its model damaged"])
    bad = "models/good.safetensors: damaged model header (format_version 'one'"
    qtbot.waitUntil(lambda: any(bad in b.text() for b in w.messages), timeout=60_000)
    assert "could not be loaded" in w.model_label.text()
    for box in list(w.messages):
        box.close()
    assert w.life.create_project(tmp_path / "Film")
    loaded(qtbot, w)
    job = w.library.import_paths([str(p) for p in corpus["clips"].values()])
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    qtbot.waitUntil(lambda: bool(w.messages), timeout=30_000)
    told = "\n".join(b.text() for b in w.messages)
    for name in CLIP_CASES:
        if name != "no frames":  # a folder of no clips is told as such, by its own name
            assert corpus["clips"][name].name in told, (name, told)
    assert "nothing: holds no videos or frame folders" in told
    assert w.session.project.clips == {}
    assert list((w.session.project.root / "media").iterdir()) == []
    for box in list(w.messages):
        box.close()
    for name in MODEL_CASES:
        path = corpus["models"][name]
        assert not w.commands.load_model(str(path)), name
        assert w.messages and path.name in w.messages[-1].text(), name
        w.messages[-1].close()
    assert w.session.project.model is None and not w.session.dirty
    assert snapshot(corpus["root"]) == before and not corpus["marker"].exists()


# -- issue 27: sounds, beats caches, recovery records, capture options, names, links -------------
def bad_sounds(root: Path, clip: Path) -> dict[str, Path]:
    """Sound files a user may pick, each wrong in its own way."""
    root.mkdir()
    s = {}
    s["empty"] = root / "empty.wav"
    s["empty"].write_bytes(b"")
    s["garbage"] = root / "garbage.mp3"
    s["garbage"].write_bytes(np.random.default_rng(2).bytes(3000))
    s["text"] = root / "notes.ogg"
    s["text"].write_text("la la la")
    s["a video with no sound"] = root / "silent.mp4"
    shutil.copyfile(clip, s["a video with no sound"])
    s["pipe"] = root / "pipe.wav"
    os.mkfifo(s["pipe"])
    s["folder"] = root / "folder.flac"
    s["folder"].mkdir()
    s["missing"] = root / "gone.wav"
    return s


SOUND_CASES = ["empty", "garbage", "text", "a video with no sound", "pipe", "folder", "missing"]


def test_every_bad_sound_is_one_clear_line_and_copies_nothing(corpus, tmp_path, capsys):
    """Set Soundtrack's engine half and the beat analysis child (the studio runs both): each bad
    sound file is one line naming it (a pipe or a folder said "no such file", a video without
    sound "Invalid argument"), and nothing is copied into the project."""
    from engine.beats import main as beats_main

    sounds = bad_sounds(tmp_path / "sounds", corpus["good_clip"])
    project = Project.create(tmp_path / "Film")
    before = snapshot(tmp_path / "sounds")
    for name in SOUND_CASES:
        path = sounds[name]
        with pytest.raises(UserError) as e:
            project.copy_in_sound(path)
        assert path.name in str(e.value) and "\n" not in str(e.value), (name, str(e.value))
        assert list((project.root / "media").iterdir()) == [], name
        code, err = run_main(beats_main, [str(path)], capsys)
        assert code == 2, (name, err)
        assert_one_clear_line(err, path)
    assert snapshot(tmp_path / "sounds") == before
    told = {}
    for name in SOUND_CASES:
        with pytest.raises(UserError) as e:
            project.copy_in_sound(sounds[name])
        told[name] = str(e.value)
    assert "is a folder" in told["folder"] and "not a regular file" in told["pipe"]
    assert "holds no sound" in told["a video with no sound"] and "no such file" in told["missing"]


def test_a_bad_beats_cache_a_bad_recovery_record_and_bad_capture_options(corpus, tmp_path,
                                                                       capsys, monkeypatch):
    """Derived and remembered data of the wrong shape never ends a command or a launch; capture
    options out of range are one line (or argparse's usage), nothing captured."""
    from engine import audio, beats
    from engine.capture import main as capture_main

    wav = audio.write_wav(tmp_path / "click.wav", audio.click_track(120, 3.0)[0])
    cache = tmp_path / "beats"
    monkeypatch.setattr(beats, "cache_root", lambda: cache)
    code, err = run_main(beats.main, [str(wav)], capsys)
    assert code == 0, err
    [file] = cache.glob("*.json")
    for text in ("[]", '"x"', "null", '{"version": 3, "beats": null}', "[" * 100_000,
                 '{"version": 3, "beats": [NaN], "onsets": [], "tempo": 1, "pulse": 0}',
                 '{"version": 3, "beats": [1e300], "onsets": [], "tempo": 1, "pulse": 0}'):
        file.write_text(text)
        code, err = run_main(beats.main, [str(wav)], capsys)
        assert code == 0 and "Traceback" not in err, (text[:40], err)
        assert beats.cached(wav) is not None  # made again
    project = Project.open(corpus["good_project"])
    clip = next(iter(project.clips.values()))
    before = snapshot(corpus["good_project"])
    for argv in (["--size", "0x0"], ["--size", "70000x70000"], ["--size", "big"],
                 ["--camera", str(tmp_path / "nothing.mp4")], ["--after", "Moon"],
                 ["--after", clip.name], ["--adopt", "Moon"]):  # a video clip: not continued
        code, err = run_main(capture_main, [str(corpus["good_project"]), "--camera",
                                            str(corpus["good_clip"]), "--frames", "1", *argv],
                             capsys)  # fmt: skip
        assert code == 2, (argv, err)
        assert len([ln for ln in err.splitlines() if ln.startswith("error: ")]) == 1, err
        assert "Traceback" not in err
    for argv in (["--every", "0"], ["--every", "-1"], ["--frames", "-1"]):
        with pytest.raises(SystemExit) as e:
            capture_main([str(corpus["good_project"]), *argv])
        assert e.value.code == 2
        assert "Traceback" not in capsys.readouterr().err
    assert snapshot(corpus["good_project"]) == before


def test_recovery_records_of_every_wrong_shape_are_set_aside(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOETROPE_DATA_DIR", str(tmp_path / "data"))
    from studio import settings

    folder = settings.recovery_dir()
    folder.mkdir(parents=True)
    bodies = ["", "[", "[1]", "null", '"x"', '{"root": "/tmp", "saved_at": "yesterday"}',
              '{"root": 5, "saved_at": 1, "project": {}}', '{"saved_at": 1, "project": {}}',
              '{"root": "/tmp", "saved_at": NaN, "project": {}}', "[" * 100_000,
              b"\xff\xfe not text"]  # fmt: skip
    for i, body in enumerate(bodies):
        f = folder / f"r{i}.json"
        f.write_bytes(body) if isinstance(body, bytes) else f.write_text(body)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert settings.pending_recoveries() == []
    after = {p.name.removesuffix(".damaged"): p.read_bytes() for p in folder.iterdir()}
    assert after == before  # kept, each byte, beside: never offered, never lost


def test_names_that_are_not_utf8_and_links_out_of_the_project_are_safe(corpus, tmp_path):
    """A clip, a sound and a model whose file names' bytes are not UTF-8 import and save; a link
    in media/ that leaves the project is never read, also by Save As."""
    from engine import audio

    odd = Path(os.fsdecode(bytes(tmp_path) + b"/Stra\xdfe"))
    odd.mkdir()
    clip = odd / os.fsdecode(b"d\xe9j\xe0 vu.mp4")
    shutil.copyfile(corpus["good_clip"], clip)
    sound = audio.write_wav(odd / os.fsdecode(b"ch\xe2teau.wav"), audio.click_track(90, 1)[0])
    model = odd / os.fsdecode(b"mod\xe8le.safetensors")
    shutil.copyfile(corpus["good_model"], model)
    p = Project.create(tmp_path / "Film")
    c = p.import_clip(clip)
    p.set_soundtrack(p.copy_in_sound(sound))
    p.set_model(model)
    (p.root / "media" / "key").symlink_to(corpus["root"] / "good.safetensors")
    p.save()
    again = Project.open(p.root)
    assert (again.clip(c.id).name, again.soundtrack.name) == ("déjà vu", "château")
    assert again.model == "models/modèle.safetensors" and again.offline() == []
    again.save_as(tmp_path / "Copy")
    assert (tmp_path / "Copy.zoetrope" / "media" / "key").is_symlink()
