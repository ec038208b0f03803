"""The training CLI end to end: artifacts, JSON protocol, signals, resume, determinism, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, TINY, run_module
from PIL import Image

from engine import checkpoint
from engine.data.clips import write_video
from engine.train import main as train_main


def _synthetic(mnist_dir) -> list[str]:
    return ["--synthetic", "moving-mnist", "--mnist", str(mnist_dir)]


def _metrics(run):
    return [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]


def _losses(rows):
    return [(r["scene"], r["equiv"], r["inv"]) for r in rows]


def _events(stdout: str) -> list[dict]:
    events = [json.loads(line) for line in stdout.splitlines()]  # every line is one JSON object
    assert all("event" in e for e in events)
    return events


@pytest.mark.slow
def test_synthetic_run_leaves_every_artifact_and_speaks_json(tmp_path, mnist_dir):
    run = tmp_path / "run"
    args = "--steps 6 --progress json --log-every 2 --sample-every 3 --checkpoint-every 3"
    out = run_module(
        "engine.train", *_synthetic(mnist_dir), *args.split(), "--out", str(run), *TINY
    )
    assert out.returncode == 0, out.stderr
    events = _events(out.stdout)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert {"progress", "sample", "checkpoint"} <= set(kinds)
    start, done = events[0], events[-1]
    assert start["total_steps"] == 6 and start["device"] == "cpu" and start["parameters"] > 0
    assert done["reason"] == "finished" and done["step"] == 6
    progress = [e for e in events if e["event"] == "progress"]
    assert [p["step"] for p in progress] == [2, 4, 6]
    for key in ("scene", "equiv", "inv", "total", "lr", "pairs_per_s", "elapsed_s", "eta_s",
                "fraction", "fc_scale", "fb_scale"):  # fmt: skip
        assert key in progress[-1]
    # RUN_DIR
    assert (run / "config.json").is_file()
    model, info = checkpoint.load(run / "model.safetensors")
    assert info.training["steps"] == 6 and info.training["image_size"] == 32
    assert "moving-mnist" in json.dumps(info.training["data"])
    ckpts = sorted((run / "checkpoints").glob("*.safetensors"))
    assert [c.name for c in ckpts] == ["step_0000003.safetensors", "step_0000006.safetensors"]
    assert checkpoint.inspect(ckpts[-1]).has_training_state
    rows = _metrics(run)
    assert [r["step"] for r in rows] == [2, 4, 6]
    samples = sorted((run / "samples").glob("*.png"))
    assert len(samples) == 2
    grid = Image.open(samples[-1])
    assert grid.height == 7 * (32 + 2)  # seven labelled rows


@pytest.mark.slow
def test_short_run_lowers_scene_loss_clearly(tmp_path, mnist_dir):
    run = tmp_path / "run"
    # the paper's plain scene loss (--change-weight 0), so the logged scene is what is optimised
    args = "--steps 400 --progress none --log-every 10 --lr 3e-3 --warmup-steps 10".split()
    args += ["--change-weight", "0"]
    assert train_main([*_synthetic(mnist_dir), *args, "--out", str(run), *TINY]) == 0
    rows = _metrics(run)
    assert rows[-1]["scene"] < 0.5 * rows[0]["scene"], rows
    # the scale-invariant helper loss leaves the feature scale in place (no collapse)
    assert rows[-1]["fc_scale"] > 0.1 * rows[0]["fc_scale"]
    assert rows[-1]["fb_scale"] > 0.1 * rows[0]["fb_scale"]


def test_same_seed_same_losses(tmp_path, mnist_dir):
    args = [*_synthetic(mnist_dir), *"--steps 5 --progress none --log-every 1".split(), *TINY]
    assert train_main([*args, "--sample-every", "0", "--out", str(tmp_path / "a")]) == 0
    assert train_main([*args, "--sample-every", "0", "--out", str(tmp_path / "b")]) == 0
    assert train_main([*args, "--seed", "1", "--out", str(tmp_path / "c")]) == 0
    a, b, c = (_losses(_metrics(tmp_path / n)) for n in "abc")
    assert a == b
    assert a != c
    # --change-weight changes the objective, not the data or the logged plain MSE's meaning
    assert train_main([*args, "--change-weight", "0", "--out", str(tmp_path / "d")]) == 0
    d = _metrics(tmp_path / "d")
    assert d[0]["scene"] == _metrics(tmp_path / "a")[0]["scene"]  # same first batch and weights
    assert d[-1]["total"] != _metrics(tmp_path / "a")[-1]["total"]


def _start(args):
    return subprocess.Popen(
        [sys.executable, "-m", "engine.train", *args], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )  # fmt: skip


def _interrupt_after(proc, step: int, sig) -> list[dict]:
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if lines[-1]["event"] == "progress" and lines[-1]["step"] >= step:
            proc.send_signal(sig)
            break
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return lines + _events(rest)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_a_checkpoint_and_resume_continues_exactly(tmp_path, mnist_dir, sig):
    args = "--steps 40 --progress json --log-every 1 --sample-every 0 --checkpoint-every 0"
    args = [*_synthetic(mnist_dir), *args.split(), *TINY]
    straight = tmp_path / "straight"
    assert train_main([*args, "--out", str(straight), "--progress", "none"]) == 0

    run = tmp_path / "interrupted"
    events = _interrupt_after(_start([*args, "--out", str(run)]), 3, sig)
    done = events[-1]
    assert done["event"] == "done" and done["reason"] == "interrupted"
    stopped = done["step"]
    assert 3 <= stopped < 40
    assert any(e["event"] == "checkpoint" and e["step"] == stopped for e in events)

    assert train_main(["--out", str(run), "--resume", "--progress", "none"]) == 0
    a, b = _metrics(straight), _metrics(run)
    assert [r["step"] for r in b] == list(range(1, 41))
    assert _losses(a) == _losses(b)


@pytest.mark.slow
def test_resume_refuses_changed_settings_and_fresh_run_refuses_existing_dir(tmp_path, mnist_dir):
    run = str(tmp_path / "r")
    args = [*_synthetic(mnist_dir), "--steps", "2", "--out", run, "--progress", "none", *TINY]
    assert train_main(args) == 0
    out = run_module("engine.train", *args)
    assert out.returncode == 2 and "already holds a training run" in out.stderr
    out = run_module("engine.train", "--out", run, "--resume", "--lr", "0.5")
    assert out.returncode == 2 and "--lr" in out.stderr
    assert train_main(["--out", run, "--resume", "--steps", "4", "--progress", "none"]) == 0
    assert _metrics(tmp_path / "r")[-1]["step"] == 4
    # the original command with --resume added is fine (relative paths, the same widths)
    rel = os.path.relpath(mnist_dir)
    again = ["--synthetic", "moving-mnist", "--mnist", rel, "--steps", "5", "--out", run]
    assert train_main([*again, "--progress", "none", "--resume", *TINY]) == 0
    assert _metrics(tmp_path / "r")[-1]["step"] == 5


@pytest.mark.slow
def test_trains_on_video_files_and_fine_tunes_with_init(tmp_path, clip_dir):
    run = tmp_path / "clips"
    out = run_module("engine.train", "--data", str(clip_dir), "--steps", "4", "--out", str(run),
                     "--progress", "json", *TINY)  # fmt: skip
    assert out.returncode == 0, out.stderr
    events = _events(out.stdout)
    prepared = [e for e in events if e["event"] == "prepare"]
    assert [e["index"] for e in prepared if e["frame"] == 0] == [1, 2, 3, 4]
    fractions = [e["fraction"] for e in prepared]  # the stage's own progress, onwards
    assert fractions == sorted(fractions) and fractions[:1] == [0] and max(fractions) < 1
    start = next(e for e in events if e["event"] == "start")
    assert start["data"] == "4 clips, 24 frames"
    model = str(run / "model.safetensors")
    tuned = tmp_path / "tuned"
    assert train_main(["--data", str(clip_dir / "clip_0.mp4"), "--init", model, "--steps", "2",
                       "--out", str(tuned), "--progress", "none", *TINY]) == 0  # fmt: skip
    assert checkpoint.inspect(tuned / "model.safetensors").training["init_from"] == model
    # without --image-size the model's own size is used
    same = ["--data", str(clip_dir), "--init", model, "--steps", "1", "--progress", "none"]
    assert train_main([*same, "--out", str(tmp_path / "same"), "--device", "cpu"]) == 0
    assert checkpoint.inspect(tmp_path / "same" / "model.safetensors").config.image_size == 32
    # with --image-size the same weights continue at another resolution
    assert train_main([*same, "--out", str(tmp_path / "big"), "--image-size", "48"]) == 0
    assert checkpoint.inspect(tmp_path / "big" / "model.safetensors").config.image_size == 48


def test_init_builtin_fine_tunes_the_model_that_ships(tmp_path, clip_dir):
    out = tmp_path / "tuned"
    assert train_main(["--data", str(clip_dir), "--init", "builtin", "--steps", "2",
                       "--batch-size", "4", "--clip-grad", "1", "--out", str(out),
                       "--progress", "none", "--device", "cpu"]) == 0  # fmt: skip
    info = checkpoint.inspect(out / "model.safetensors")
    assert info.training["init_from"] == str(checkpoint.BUILTIN_MODEL)
    assert info.config == checkpoint.inspect(checkpoint.BUILTIN_MODEL).config


def _one_line_error(out, *needles):
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    # what a terminal shows: a carriage return overwrites (the passing "preparing clips" line)
    shown = [ln.rsplit("\r", 1)[-1] for ln in out.stderr.split("\n")]
    lines = [ln for ln in shown if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for needle in needles:
        assert needle in lines[0]


def _tiny_video(tmp_path):
    from test_clips import write_tiny_video

    return write_tiny_video(tmp_path / "tiny.mkv")


def _write(path, text):
    path.write_text(text)
    return path


BAD_INPUTS = {
    "missing": (lambda p: p / "nope.mp4", ["nope.mp4", "no such file"]),
    "not a video": (
        lambda p: _write(p / "fake.mp4", "hello, not a video"),
        ["fake.mp4", "not a readable video"],
    ),
    "one frame": (
        lambda p: write_video(p / "one.mp4", [np.zeros((32, 32, 3), np.uint8)]),
        ["one.mp4", "only one frame"],
    ),
    "1x1": (_tiny_video, ["tiny.mkv", "too small"]),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, case):
    make, needles = BAD_INPUTS[case]
    path = make(tmp_path)
    out = run_module("engine.train", "--data", str(path), "--steps", "1",
                     "--out", str(tmp_path / "run"), *TINY)  # fmt: skip
    _one_line_error(out, *needles)


@pytest.mark.slow
def test_mixed_sizes_and_zero_frames_and_bad_settings(tmp_path, mnist_dir):
    run = ["--out", str(tmp_path / "r")]
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(mixed / "1.png")
    Image.fromarray(np.zeros((24, 20, 3), np.uint8)).save(mixed / "2.png")
    _one_line_error(run_module("engine.train", "--data", str(mixed), *run, *TINY),
                    "2.png", "differs")  # fmt: skip
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_line_error(run_module("engine.train", "--data", str(empty), *run, *TINY),
                    "empty", "holds no videos or frame folders")  # fmt: skip
    _one_line_error(run_module("engine.train", "--synthetic", "moving-mnist", *run), "--mnist")
    bad = run_module("engine.train", *_synthetic(tmp_path), *run, *TINY, "--change-weight", "-1")
    _one_line_error(bad, "--change-weight")
    bad = run_module("engine.train", *_synthetic(tmp_path), *run, *TINY, "--clip-grad", "-1")
    _one_line_error(bad, "--clip-grad")
    out = run_module("engine.train", *_synthetic(tmp_path), *run)
    _one_line_error(out, str(tmp_path), "no MNIST train images")


@pytest.mark.slow
def test_one_bad_clip_among_good_ones_is_skipped_with_a_warning(tmp_path, clip_dir):
    data = tmp_path / "data"
    data.mkdir()
    for p in sorted(clip_dir.glob("*.mp4"))[:2]:
        (data / p.name).write_bytes(p.read_bytes())
    (data / "broken.mp4").write_bytes(b"\x00" * 1000)
    out = run_module("engine.train", "--data", str(data), "--steps", "2", "--progress", "json",
                     "--out", str(tmp_path / "run"), *TINY)  # fmt: skip
    assert out.returncode == 0, out.stderr
    events = _events(out.stdout)
    warnings = [e for e in events if e["event"] == "warning"]
    assert len(warnings) == 1 and "broken.mp4" in warnings[0]["message"]
    start = next(e for e in events if e["event"] == "start")
    assert start["data"] == "2 clips, 12 frames" and events[-1]["event"] == "done"


@pytest.mark.slow
def test_torchrun_two_processes_on_gloo(tmp_path, mnist_dir):
    run = tmp_path / "ddp"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", "2", "-m", "engine.train"]  # fmt: skip
    args = [*_synthetic(mnist_dir), *"--steps 4 --progress json --log-every 2".split()]
    out = subprocess.run([*torchrun, *args, "--out", str(run), *TINY], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, OMP_NUM_THREADS="1"))  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    events = _events(out.stdout)  # rank 0 alone reports
    assert events[0]["world_size"] == 2 and events[-1]["event"] == "done"
    assert sum(e["event"] == "start" for e in events) == 1
    info = checkpoint.inspect(run / "model.safetensors")
    assert info.training["batch_size"] == 16  # 8 per process
    assert [r["step"] for r in _metrics(run)] == [2, 4]


def test_json_mode_reports_errors_as_an_event(tmp_path):
    out = run_module("engine.train", "--data", str(tmp_path / "gone.mov"), "--progress", "json",
                     "--out", str(tmp_path / "r"))  # fmt: skip
    assert out.returncode == 2
    events = _events(out.stdout)
    assert len(events) == 1 and events[0]["event"] == "error"
    assert "gone.mov" in events[0]["message"]


def test_synthetic_generator_writes_videos_that_train(tmp_path, mnist_dir):
    vids = tmp_path / "vids"
    out = run_module("engine.data.synthetic", "--mnist", str(mnist_dir), "--split", "test",
                     "--count", "3", "--format", "webm", "--out", str(vids))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert len(sorted(vids.glob("*.webm"))) == 3
    run = tmp_path / "run"
    args = ["--data", str(vids), "--steps", "2", "--progress", "none", "--out", str(run)]
    assert train_main([*args, *TINY]) == 0
    assert checkpoint.inspect(run / "model.safetensors").training["data"]["frames"] == 15


@pytest.mark.slow
def test_resume_works_from_another_directory(tmp_path, mnist_dir):
    rel = os.path.relpath(mnist_dir, ROOT)
    run = str(tmp_path / "r")
    out = run_module("engine.train", "--synthetic", "moving-mnist", "--mnist", rel, "--steps", "2",
                     "--out", run, "--progress", "none", *TINY)  # fmt: skip
    assert out.returncode == 0, out.stderr
    out = subprocess.run([sys.executable, "-m", "engine.train", "--out", run, "--resume",
                          "--steps", "3", "--progress", "none"], cwd=tmp_path,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                         text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert _metrics(tmp_path / "r")[-1]["step"] == 3


@pytest.mark.slow
def test_unwritable_run_folder_is_a_clear_error(tmp_path, mnist_dir):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the run folder should go")
    out = run_module("engine.train", *_synthetic(mnist_dir), "--steps", "1",
                     "--out", str(blocker / "run"), *TINY)  # fmt: skip
    _one_line_error(out, str(blocker))


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_starts_again(tmp_path, mnist_dir):
    """Issue 13.2: after a kill -9 before the first checkpoint, --resume said "no checkpoint"
    and a fresh start "already holds a training run": the folder was stuck."""
    run = tmp_path / "run"
    args = [*_synthetic(mnist_dir), "--checkpoint-every", "0", "--sample-every", "0",
            "--log-every", "1", "--out", str(run), *TINY]  # fmt: skip
    proc = _start([*args, "--steps", "100000", "--progress", "json"])
    for line in proc.stdout:
        if json.loads(line)["event"] == "progress":
            proc.kill()  # kill -9: no checkpoint, no clean-up
            break
    proc.communicate(timeout=60)
    assert (run / "config.json").is_file() and not (run / "checkpoints").exists()
    half = run / "checkpoints" / ".step_0000500.safetensors.x1y2z3.tmp"  # a kill mid-save
    half.parent.mkdir()
    half.write_bytes(b"half a checkpoint")
    out = run_module(
        "engine.train", "--out", str(run), "--resume", "--steps", "3", "--progress", "none"
    )
    assert out.returncode == 0, out.stderr
    assert "stopped before its first checkpoint" in out.stderr and "starts again" in out.stderr
    assert not half.exists() and [r["step"] for r in _metrics(run)] == [1, 2, 3]
    # a finished run is never started over …
    again = [*args, "--steps", "2", "--progress", "none"]
    assert run_module("engine.train", *again).returncode == 2
    # … but one that saved nothing may be, without --resume
    (run / "model.safetensors").unlink()
    for p in (run / "checkpoints").iterdir():
        p.unlink()
    out = run_module("engine.train", *again)
    assert out.returncode == 0 and "starting it again" in out.stderr, out.stderr
    assert [r["step"] for r in _metrics(run)] == [1, 2]


@pytest.mark.slow
def test_resume_refuses_a_checkpoint_of_another_run_or_size(tmp_path, mnist_dir):
    base = [*_synthetic(mnist_dir), "--steps", "2", "--progress", "none", *TINY]
    a, b = tmp_path / "a", tmp_path / "b"
    assert train_main([*base, "--out", str(a)]) == 0
    assert train_main([*base, "--out", str(b)]) == 0
    ckpt_b = next((b / "checkpoints").iterdir())
    for p in (a / "checkpoints").iterdir():
        p.unlink()
    ckpt_b.rename(a / "checkpoints" / "step_0000009.safetensors")
    out = run_module("engine.train", "--out", str(a), "--resume", "--steps", "4")
    _one_line_error(out, "a checkpoint of another training run")
    # a checkpoint of another image size
    bigger = tmp_path / "c"
    big = [*base, "--out", str(bigger), "--image-size", "48"]
    assert train_main(big) == 0
    for p in (a / "checkpoints").iterdir():
        p.unlink()
    next((bigger / "checkpoints").iterdir()).rename(a / "checkpoints" / "step_0000009.safetensors")
    out = run_module("engine.train", "--out", str(a), "--resume", "--steps", "4")
    _one_line_error(out, "a checkpoint of another model (48² px")


def test_warm_up_and_sample_grids_scale_with_the_run(tmp_path, mnist_dir):
    """Issue 17: a short run is not mostly warm-up, and shows sample grids as it goes."""
    from engine.train import TrainConfig, lr_at

    short, long = TrainConfig(steps=150, lr=1.0), TrainConfig(steps=10_000, lr=1.0)
    assert lr_at(short, 0, 0.0) == pytest.approx(0.01)
    assert lr_at(short, 15, 15 / 150) > 0.97  # warmed up after a tenth of the run…
    assert lr_at(long, 50, 50 / 10_000) == pytest.approx(0.51)  # …or 100 steps, if shorter
    assert lr_at(long, 100, 100 / 10_000) > 0.99
    assert lr_at(TrainConfig(steps=150, lr=1.0, warmup_steps=100), 50, 50 / 150) == 0.51  # as set
    run = tmp_path / "run"
    args = [*_synthetic(mnist_dir), "--steps", "12", "--out", str(run), "--progress", "none"]
    assert train_main([*args, *TINY]) == 0
    grids = sorted(p.name for p in (run / "samples").iterdir())
    assert grids == [f"step_{k:07d}.png" for k in (2, 4, 6, 8, 10, 12)]  # each sixth, once
