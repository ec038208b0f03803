"""The Director and `python -m engine.render`, through a tiny real model file."""

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from conftest import run_module

from engine import checkpoint
from engine.document import Project
from engine.errors import Cancelled
from engine.frames.director import Director
from engine.frames.model_render import with_matte as _with_matte
from engine.samples import to_tensor


@pytest.fixture
def project(tmp_path, clip_dir, model_file):
    p = Project.create(tmp_path / "Film")
    a, b, c = (p.import_clip(clip_dir / f"clip_{i}.mp4").id for i in range(3))
    p.set_model(model_file)
    p.add_shot((a, 1), (b, 0), a, duration=6)
    p.add_shot((b, 2), (c, 4), (b, 0, 3), duration=10, loop="pingpong", hold=2)
    # these tests are about g's frames: model mode, at the model's own size, each character
    # moved by T^Z of its own clip's motion (a transfer's root motion is the transfer plan's:
    # tests/test_transfer.py)
    p.set_render_mode("model")
    p.set_output_size((32, 32))
    p.save()
    return p


def test_frames_are_h_of_the_model(project):
    """Every cached shortcut gives what h(x_c, m_in, m_k, x_b) gives computed directly."""
    d = Director(project, device="cpu", precision="fp32")
    assert d.model_path == project.root / project.model and d.size == (32, 32)
    frames = list(d.frames(batch_size=4))
    assert len(frames) == 16 and frames[0].shape == (32, 32, 3) and frames[0].dtype == np.uint8
    shot, local = project.timeline.shot_at(13)
    clip = d.clip_frames
    x = lambda ref, k: to_tensor(np.asarray(clip(ref)[[k]]))  # noqa: E731
    model, _ = checkpoint.load(project.model_path())
    with torch.inference_mode():
        direct, _ = model.render(
            x(shot.character.clip, shot.character.frame),
            x(shot.motion.clip, shot.motion.start),
            x(shot.motion.clip, shot.motion_frame(local)),
            x(shot.background.clip, shot.background.frame),
        )
    expected = direct.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()[0]
    assert np.abs(frames[13].astype(int) - expected).max() <= 1
    np.testing.assert_array_equal(d.frame(13), frames[13])  # single frame = batched frame


def test_cache_is_keyed_by_content_so_edits_rerender_only_what_they_touch(project):
    d = Director(project, device="cpu", precision="fp32")
    list(d.frames())
    first = d.cache_info()
    # shot 1: 6 distinct motion frames; shot 2, ping-pong on 2s over frames 0…3, shows only
    # 0, 0, 2, 2, 2, 2, 0, 0, 2, 2: two distinct frames
    assert [project.shots[1].motion_frame(t) for t in range(10)] == [0, 0, 2, 2, 2, 2, 0, 0, 2, 2]
    assert first["misses"] == 6 + 2 and first["hits"] == 16 - 8
    s2 = project.shots[1]
    project.update_shot(s2.id, duration=14)  # longer: the same 4 motion frames again
    list(d.frames())
    assert d.cache_info()["misses"] == 8
    project.update_shot(project.shots[0].id, character=(project.shots[0].character.clip, 5))
    list(d.frames())
    assert d.cache_info()["misses"] == 8 + 6  # only the edited shot re-rendered
    background = d.shot_frames(s2, [0, 3, 9], "background")
    assert all(np.array_equal(background[0], b) for b in background)


def test_layers_and_cutout_alpha(project):
    d = Director(project, device="cpu", precision="fp32")
    comp, bg, char, cut, matte = (d.frame(3, layer) for layer in (
        "composite", "background", "character", "cutout", "matte"))  # fmt: skip
    assert comp.shape == bg.shape == char.shape == matte.shape == (32, 32, 3)
    assert cut.shape == (32, 32, 4)
    np.testing.assert_array_equal(cut[..., :3], comp)
    np.testing.assert_array_equal(matte[..., 0], cut[..., 3])
    composite = torch.full((1, 3, 4, 4), 0.5)
    composite[..., 0, 0] = 0.9  # differs from the background at one pixel by 0.4
    composite[..., 1, 1] = 0.565  # by 0.065: half-way through the matte's soft edge
    alpha = _with_matte(composite, torch.full((1, 3, 4, 4), 0.5))[0, 3]
    assert alpha[0, 0] == 1 and alpha[1, 1] == pytest.approx(0.5, abs=0.01)
    assert alpha.sum() == pytest.approx(1.5, abs=0.01)


def test_cancel_between_batches(project):
    d = Director(project, device="cpu", precision="fp32")
    seen = []
    it = d.frames(batch_size=4, progress=lambda done, total: seen.append((done, total)),
                  cancel=lambda: len(seen) >= 2)  # fmt: skip
    with pytest.raises(Cancelled):
        list(it)
    assert seen == [(4, 16), (8, 16)]


def test_render_cli_writes_a_playable_video(project, tmp_path):
    out = tmp_path / "film.mp4"
    r = run_module("engine.render", str(project.root), "--out", str(out), "--scale", "3",
                   "--range", "2:13", "--fps", "12", "--device", "cpu")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stderr and "12 frames" in r.stderr
    gen = imageio_ffmpeg.read_frames(str(out))
    meta = next(gen)
    assert meta["size"] == (96, 96) and meta["fps"] == 12 and sum(1 for _ in gen) == 12


@pytest.mark.parametrize(
    "change, args, message",
    [
        ("", ["--model", "missing.safetensors"], "missing.safetensors: model file not found"),
        ("empty", [], "timeline is empty"),
        ("", ["--format", "mov"], "invalid choice"),
        ("", ["--out-ext", ".doc"], "cannot tell the format"),
        ("", ["--range", "3:99"], "outside the timeline"),
        ("", ["--alpha"], "MP4 (H.264) cannot store transparency"),
    ],
)
def test_render_cli_errors_are_one_clear_line(project, tmp_path, capsys, change, args, message):
    """In this process (run_main): each case once in a child process took 3 s of torch's import
    on 2 cores; the child process path itself is the successful renders' above."""
    from conftest import run_main

    from engine.render import main

    if change == "empty":
        for s in list(project.shots):
            project.delete_shot(s.id)
        project.save()
    out = tmp_path / "film.mp4"
    if args[:1] == ["--out-ext"]:
        out, args = out.with_suffix(args[1]), []
    code, err = run_main(main, [str(project.root), "--out", str(out), *args], capsys)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.skipif(
    not torch.ops.mkldnn._is_mkldnn_bf16_supported(), reason="this CPU has no bf16 support"
)
def test_bf16_renders_close_to_fp32(project):
    fp32 = Director(project, device="cpu", precision="fp32").frame(9)
    bf16 = Director(project, device="cpu", precision="bf16")
    assert bf16.precision == "bf16"
    assert np.abs(bf16.frame(9).astype(int) - fp32).mean() < 4


@pytest.mark.slow
def test_render_cli_never_deletes_a_folder_of_the_users_files(project, tmp_path):
    """Issue 13.1, as reported: `--out MyVideos` emptied the folder, exit 0."""
    videos = tmp_path / "MyVideos"
    (videos / "holiday").mkdir(parents=True)
    (videos / "holiday" / "wedding.mov").write_bytes(b"precious")
    r = run_module("engine.render", str(project.root), "--out", str(videos), "--range", "0:2")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"error: {videos}: the folder holds things that are not frames" in r.stderr
    assert (videos / "holiday" / "wedding.mov").read_bytes() == b"precious"
    # `--out .` (was a ValueError traceback): the current folder, refused here as it is not empty
    r = run_module("engine.render", str(project.root), "--out", ".", "--range", "0:2", cwd=videos)
    assert r.returncode == 2 and "Traceback" not in r.stderr and str(videos) in r.stderr
    # … and used when it is empty
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_module("engine.render", str(project.root), "--out", ".", "--range", "0:2", cwd=empty)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in empty.iterdir()) == [f"frame_0000{k}.png" for k in range(3)]


def _processes_naming(text: str) -> list[int]:
    """Pids of running processes whose command line mentions ``text`` (Linux /proc)."""
    from pathlib import Path

    found = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and text.encode() in (d / "cmdline").read_bytes():
                found.append(int(d.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="/proc")
def test_render_cli_stops_cleanly_on_sigterm(project, tmp_path):
    """Issue 13.5: SIGTERM left a hidden .part file and a running ffmpeg."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    project.update_shot(project.shots[0].id, duration=100_000, loop="loop")
    project.save()
    out = tmp_path / "out" / "long.mp4"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "engine.render", str(project.root), "--out",
                             str(out), "--scale", "8", "--device", "cpu", "--progress", "none"],
                            cwd=ROOT, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > 0 for p in out.parent.glob(".long.mp4.*.part")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    part = next(out.parent.glob(".long.mp4.*.part"))
    ffmpeg = _processes_naming(str(part))
    assert ffmpeg  # encoding
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert b"stopped by SIGTERM; nothing written" in err and b"Traceback" not in err
    assert list(out.parent.iterdir()) == []
    deadline = time.monotonic() + 60  # ffmpeg goes (waited for: a busy machine is slow)
    while _processes_naming(str(part)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_naming(str(part)) == []
