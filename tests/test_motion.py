"""Motion beyond the clip (issue 15): the endless walk, root motion across jumps, paths."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine import checkpoint
from engine.data import demokit as kit
from engine.data.cache import FrameCache
from engine.data.clips import write_video
from engine.document import Key, Project
from engine.frames.compositor import composite, fit_matrix, place
from engine.frames.layers import LayerCache
from engine.frames.motion import (
    Carrier,
    TransitionGraph,
    Walker,
    carry,
    filtered,
    frame_distance,
    path_at,
    path_matrix,
    root_steps,
    translate,
)


def _periodic(n: int = 30, period: int = 8) -> np.ndarray:
    """A pose that comes round every ``period`` frames, with a slow drift on top."""
    t = np.arange(n)
    return np.stack([np.cos(2 * np.pi * t / period), np.sin(2 * np.pi * t / period),
                     0.02 * t], axis=1)  # fmt: skip


def _longest_repeat(seq) -> int:
    seq, best = np.asarray(seq), 0
    for lag in range(1, len(seq)):
        same = np.r_[0, (seq[lag:] == seq[:-lag]).astype(np.int8), 0]
        edges = np.diff(same)
        if (edges == 1).any():
            best = max(best, int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max()))
    return best


def test_the_walk_is_seeded_never_stuck_and_never_repeats_half_the_clip():
    n = 30
    graph = TransitionGraph.build(frame_distance(_periodic(n), None, 0))
    a, b = graph.walk(1000, seed=3), graph.walk(1000, seed=3)
    np.testing.assert_array_equal(a, b)  # reproducible from the seed the shot stores
    assert not np.array_equal(a, graph.walk(1000, seed=4))  # Reshuffle: another walk
    assert a[0] == 0 and a.min() >= 0 and a.max() < n
    # no dead end: the last frame has somewhere to go, and every step is a real transition
    assert len(graph.choices(n - 1, 0.5)[0]) >= 1
    assert all(np.isfinite(graph.total[i, j]) for i, j in zip(a[:-1], a[1:], strict=True))
    assert _longest_repeat(a) < n / 2
    # a walk the playhead outruns grows where it stopped: the same frames, and the same maps
    walker = Walker(graph, seed=3)
    pieces = [walker.extend(m) for m in (1, 17, 400, 1000)]
    np.testing.assert_array_equal(pieces[-1], a)
    assert all(np.array_equal(x, a[: len(x)]) for x in pieces)
    centres = np.stack([np.linspace(-0.5, 0.5, n), 0.1 * np.sin(np.arange(n))], axis=1)
    carrier = Carrier(centres, 0.1)
    parts = np.concatenate([carrier.extend(a[:250]), carrier.extend(a[250:])])
    np.testing.assert_allclose(parts, carry(a, centres, 0.1))
    # jumps go where the clip went on alike: j − 1 has i's phase (period 8)
    jumps = [(i, j) for i, j in zip(a[:-1], a[1:], strict=True) if j != i + 1]
    assert len(jumps) > 20
    assert all((j - 1 - i) % 8 in (0, 1, 7) for i, j in jumps)


def test_how_often_it_jumps_is_the_users_and_the_filter_keeps_the_dynamics():
    graph = TransitionGraph.build(frame_distance(_periodic(60), None, 0))
    rare, often = (np.sum(np.diff(graph.walk(2000, 0, jumps)) != 1) for jumps in (0.0, 1.0))
    assert often > 4 * rare
    # the diagonal filter: a frame matched alone is not enough, its neighbours must match too
    d = np.ones((6, 6)) - np.eye(6)
    d[1, 4] = d[4, 1] = 0
    f = filtered(d)
    assert f[1, 4] > 0.5 and f[0, 3] > 0.5 and filtered(np.zeros((6, 6))).max() == 0


def test_root_motion_carries_across_jumps_and_the_edge_is_the_shots():
    """A character walking right by 0.05 a frame: after each jump it walks on from where it
    was, never snaps back; at the frame's edge it turns back, wraps round or stays inside."""
    n = 20
    centres = np.stack([[-0.5 + 0.05 * k, 0.0] for k in range(n)])
    frames = np.array([0, 1, 2, 3, 4, 5, 2, 3, 4, 12, 13, 19, 8, 9])
    extras = carry(frames, centres, half_width=0.1, edge="stay")
    x = [(e @ np.append(centres[k], 1))[0] for e, k in zip(extras, frames, strict=True)]
    np.testing.assert_allclose(np.diff(x), 0.05, atol=1e-9)  # always one step on
    np.testing.assert_array_equal(extras[:6], np.broadcast_to(np.eye(3), (6, 3, 3)))
    long = np.tile(np.arange(n), 10)  # loops round and round: far past the right edge
    for edge in ("turn", "wrap", "stay"):
        ex = carry(long, centres, 0.1, edge)
        x = np.array([(e @ np.append(centres[k], 1))[0] for e, k in zip(ex, long, strict=True)])
        assert np.all(np.abs(x) <= 1.2 + 0.05), edge  # never lost beyond the edge
        if edge == "turn":
            assert (np.linalg.det(ex[:, :2, :2]) < 0).any()  # mirrored: walking back
            assert (np.diff(x) < 0).sum() > 50
        if edge == "wrap":
            assert (np.diff(x) < -1.5).sum() >= 2 and (np.diff(x) > 0).sum() > 150
        if edge == "stay":
            assert x.max() <= 0.9 + 1e-9


def test_root_steps_are_the_motion_between_frames():
    forward = np.stack([translate(0.1 * k, 0) for k in range(4)])
    steps = root_steps(forward)
    np.testing.assert_allclose(steps[:, 2], 0.1)  # x translation of each step
    np.testing.assert_allclose(np.delete(steps, 2, axis=1), 0, atol=1e-12)


def test_path_composition_is_the_known_transform():
    keys = (Key(0), Key(10, x=0.25, y=-0.1, angle=90, scale=2.0), Key(20, x=0.5, ease="ease"))
    size, pivot = (200, 100), (40.0, 60.0)
    np.testing.assert_allclose(path_matrix(keys, 0, pivot, size), np.eye(3), atol=1e-12)
    m = path_matrix(keys, 10, pivot, size)
    # the pivot goes where the key moved it; a point to its right turns to below it, twice out
    np.testing.assert_allclose(m @ [40, 60, 1], [40 + 50, 60 - 10, 1], atol=1e-9)
    np.testing.assert_allclose(m @ [41, 60, 1], [90, 52, 1], atol=1e-9)
    assert path_at(keys, 30) == path_at(keys, 20) == (0.5, 0.0, 0.0, 1.0)  # held after
    # the curve passes through its keys and eases into the last one (slower near it)
    x = [path_at(keys, t)[0] for t in (18, 19, 19.9)]
    assert x[1] - x[0] > x[2] - x[1] > 0
    assert path_at(keys, 5)[2] == pytest.approx(45)


@pytest.fixture(scope="module")
def walker(tmp_path_factory):
    """A held-out rigid character walking across a set (160×120, H.264), in a project."""
    root = tmp_path_factory.mktemp("motion")
    spec = next(s for s in kit.clip_specs("test", 60) if s.character.kind != "puppet"
                and s.motion == "walk")  # fmt: skip
    path = write_video(root / "walk.mp4", kit.render_clip(spec, (160, 120)), fps=12, quality=9)
    torch.set_num_threads(2)
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    cache = LayerCache(root / "layers", FrameCache(root / "frames"))
    return path, model, cache


def _project(tmp_path, walker):
    path, model, cache = walker
    p = Project.create(tmp_path / "Walk")
    clip = p.import_clip(path).id
    return p, clip


def test_an_endless_shot_shows_real_frames_carried_on(walker, tmp_path):
    from engine.frames.director import Director

    _, model, cache = walker
    p, clip = _project(tmp_path, walker)
    shot = p.add_shot((clip, 0), (clip, 0), clip, loop="endless", duration=200, seed=5)
    d = Director(p, model, device="cpu", layer_cache=cache, frame_cache=cache.frames)
    drives = [d.drive(shot, t) for t in range(200)]
    assert [x.k for x in drives[:3]] == [0, 1, 2]
    jumps = [t for t in range(199) if drives[t + 1].k != drives[t].k + 1]
    assert jumps and max(x.k for x in drives) <= 23
    # every frame is a real frame's cut-out, moved by the walk's extra map, once
    layers = d.layers(clip)
    t = jumps[-1] + 1
    n = np.array([[2 / 160, 0, 1 / 160 - 1], [0, 2 / 120, 1 / 120 - 1], [0, 0, 1]])
    matrix = fit_matrix(layers.size, d.size) @ np.linalg.inv(n) @ drives[t].extra @ n
    rgba, x0, y0 = layers.cutout(drives[t].k)
    expected = composite(layers.plate, place(rgba, x0, y0, matrix, d.size))
    np.testing.assert_array_equal(d.shot_frames(shot, [t])[0], expected)
    # the same walk in another Director (a reopened project, the export) and in model mode
    again = Director(p, model, device="cpu", layer_cache=cache, frame_cache=cache.frames)
    assert [again.drive(shot, t).k for t in range(200)] == [x.k for x in drives]
    model_mode = Director(p, model, device="cpu", mode="model", layer_cache=cache,
                          frame_cache=cache.frames)  # fmt: skip
    assert [model_mode.drive(shot, t).k for t in range(200)] == [x.k for x in drives]
    assert model_mode.shot_frames(shot, [t])[0].shape == (120, 160, 3)


def test_a_path_moves_the_character_in_the_one_warp(walker, tmp_path):
    """Pixels mode: a path of +16 px right is the unpathed frame's character 16 px right (an
    integer shift is exact in a single warp); model mode: theta composed with the path."""
    from engine.frames.director import Director

    _, model, cache = walker
    p, clip = _project(tmp_path, walker)
    plain = p.add_shot((clip, 0), (clip, 0), clip, duration=24)
    moved = p.add_shot((clip, 0), (clip, 0), clip, duration=24,
                       path=(Key(0, x=16 / 160), Key(23, x=16 / 160)))  # fmt: skip
    d = Director(p, model, device="cpu", layer_cache=cache, frame_cache=cache.frames)
    a = d.shot_frames(plain, [9], "cutout")[0]
    b = d.shot_frames(moved, [9], "cutout")[0]
    np.testing.assert_array_equal(b[:, 16:], a[:, :-16])
    m = Director(p, model, device="cpu", mode="model", precision="fp32", layer_cache=cache,
                 frame_cache=cache.frames)  # fmt: skip
    with torch.inference_mode():
        theta = m.model_renderer.theta(moved, 9).numpy()
        base = m.inputs.theta(plain.motion, 9).numpy()
    # forward of the path: +0.2 in normalised x (16 of 160 px = 0.1 of the width, ×2)
    expected = base @ np.linalg.inv(translate(0.2, 0))
    np.testing.assert_allclose(theta, expected[:2], atol=1e-5)
    turn = p.add_shot((clip, 0), (clip, 0), clip, duration=24, path=(Key(0, angle=30),))
    placed = d.shot_frames(turn, [9], "matte")[0][..., 0]
    still = d.shot_frames(plain, [9], "matte")[0][..., 0]
    assert abs(int((placed > 127).sum()) - int((still > 127).sum())) < 0.1 * (still > 127).sum()
    assert not np.array_equal(placed, still) and math.isfinite(float(theta.sum()))


def test_the_predictor_extends_a_motion_with_takes_and_a_target(walker, tmp_path):
    """Trained on the project's clip in seconds; the extension plays after the clip's frames,
    reproducibly; another take is another future; a target pulls the character to it; the file
    round-trips, and a damaged one is named."""
    from engine.frames.director import Director
    from engine.frames.predictor import MotionPredictor, PredictorError

    _, model, cache = walker
    p, clip = _project(tmp_path, walker)
    shot = p.add_shot((clip, 0), (clip, 0), clip, duration=24 + 30, extend=30)
    d = Director(p, model, device="cpu", layer_cache=cache, frame_cache=cache.frames)
    with pytest.raises(Exception, match="no motion predictor yet"):
        d.drive(shot, 30)
    path = d.train_predictor(steps=60)
    assert path == p.root / "models" / "motion-predictor.safetensors"
    drives = [d.drive(shot, t) for t in range(54)]
    assert [x.k for x in drives[:24]] == list(range(24)) and drives[23].extra is None
    assert all(0 <= x.k < 24 and x.extra is not None for x in drives[24:])
    assert d.shot_frames(shot, [40])[0].shape == (120, 160, 3)
    predictor = MotionPredictor.load(path)
    motion = d.drives.predictor_motion(shot)
    a, b = predictor.predict(motion, 30), predictor.predict(motion, 30)
    np.testing.assert_array_equal(a.roots, b.roots)
    other = predictor.predict(motion, 30, take=1)
    assert np.abs(other.roots - a.roots).max() > 1e-3
    start = motion.roots[-1][:2]
    for target in ((-0.9, start[1]), (0.9, start[1])):
        ends = predictor.predict(motion, 30, target=target).roots[-1][:2]
        assert abs(ends[0] - target[0]) < abs(start[0] - target[0])  # nearer than it started
    # model mode, in bf16 where the CPU has it: the motion is worked out in full precision
    precision = "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    m = Director(p, model, device="cpu", mode="model", precision=precision, layer_cache=cache,
                 frame_cache=cache.frames)  # fmt: skip
    assert [m.drive(shot, t).k for t in range(24)] == list(range(24))
    assert m.shot_frames(shot, [40, 53])[1].shape == (120, 160, 3)
    # a new motion source: the clip, then predicted frames, as lossless PNGs to import
    from engine.data.clips import ClipReader

    folder = d.extend_clip(clip, 6, tmp_path / "extended", take=2)
    assert len(list(folder.glob("*.png"))) == 30
    new = p.import_clip(folder, name="Walk extended")
    assert (new.frames, new.width, new.height) == (30, 160, 120)
    ours = list(ClipReader(p.clip_path(new.id)).frames())
    theirs = list(ClipReader(p.clip_path(clip)).frames())
    assert all(np.array_equal(a, b) for a, b in zip(ours[:24], theirs, strict=True))
    path.write_bytes(b"not a model")
    with pytest.raises(PredictorError, match="damaged motion predictor"):
        MotionPredictor.load(path)


@pytest.mark.slow  # a subprocess: loads torch and the model, analyses the clip
def test_render_cli_trains_the_predictor_and_renders_an_extended_shot(walker, tmp_path, capsys):
    """Headless: `python -m engine.render PROJECT --train-predictor` makes the predictor the
    project's extended shot needs; without it the render names what is missing."""
    import imageio_ffmpeg
    from conftest import run_main, run_module

    from engine.render import main as render_main

    p, clip = _project(tmp_path, walker)
    p.add_shot((clip, 0), (clip, 0), clip, duration=36, extend=12, loop="once")
    p.save()
    out = tmp_path / "ext.mp4"
    code, err = run_main(render_main, [str(p.root), "--out", str(out), "--device", "cpu"], capsys)
    assert code == 2 and "no motion predictor yet" in err and not out.exists()
    r = run_module("engine.render", str(p.root), "--out", str(out), "--device", "cpu",
                   "--train-predictor")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (p.root / "models" / "motion-predictor.safetensors").is_file()
    gen = imageio_ffmpeg.read_frames(str(out))
    next(gen)
    assert sum(1 for _ in gen) == 36
