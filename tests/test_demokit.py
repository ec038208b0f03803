"""The demo kit generator: deterministic, split-disjoint, transferable motions, real videos."""

import numpy as np
import pytest
from conftest import run_module

from engine.data import demokit as kit
from engine.data.clips import ClipReader


def test_same_seed_same_frames_and_splits_do_not_share_cast_or_sets():
    a, b = kit.clip_specs("train", 4), kit.clip_specs("train", 4)
    np.testing.assert_array_equal(kit.render_clip(a[1]), kit.render_clip(b[1]))
    assert a == b
    looks = lambda c: (c.kind, c.body, c.limb, c.head, c.accent, c.torso)  # noqa: E731
    train = {looks(kit.make_character("train", i)) for i in range(24)}
    test = {looks(kit.make_character("test", i)) for i in range(24)}
    assert len(train) == 24 and not train & test
    train_bg = [kit.render_background(kit.make_background("train", i), 32) for i in range(8)]
    for i in range(8):
        bg = kit.render_background(kit.make_background("test", i), 32)
        assert all(np.abs(bg.astype(int) - t).mean() > 1 for t in train_bg)


def test_every_motion_moves_every_kind_of_character_and_keeps_it_in_view():
    cast = [kit.make_character("train", i) for i in range(6)]  # puppets and rigid ones
    assert {c.kind for c in cast} >= {"puppet", "ball", "star"}
    for ch in cast:
        for motion in kit.MOTIONS:
            poses = kit.motion_poses(motion, ch, rng=np.random.default_rng(3))
            alpha = np.stack([np.asarray(kit.character_layer(ch, p, 32))[..., 3] for p in poses])
            assert (alpha.reshape(len(poses), -1).max(axis=1) == 255).all(), (ch.name, motion)
            assert np.abs(np.diff(alpha.astype(int), axis=0)).sum() > 0, (ch.name, motion)


def test_puppet_limbs_bend_so_the_motion_is_not_one_affine():
    """A walk moves the legs against each other: the two halves of the body move differently."""
    puppet = kit.make_character("train", 0)
    assert puppet.kind == "puppet"
    poses = kit.motion_poses("walk", puppet, rng=np.random.default_rng(0))
    assert poses[0].joints["l_hip"] != poses[3].joints["l_hip"]
    assert poses[3].joints["l_hip"] == -poses[3].joints["r_hip"]


def test_a_motion_plays_the_same_on_any_character():
    a, c = kit.make_character("test", 0), kit.make_character("test", 1)
    pa = kit.motion_poses("hop", a, rng=np.random.default_rng(7))
    pc = kit.motion_poses("hop", c, rng=np.random.default_rng(7))
    assert [p.x for p in pa] == [p.x for p in pc] and [p.angle for p in pa] == [p.angle for p in pc]
    lift = lambda ps: [ps[0].y - p.y for p in ps]  # noqa: E731 — feet on each one's own ground
    np.testing.assert_allclose(lift(pa), lift(pc))


def test_compose_only_changes_pixels_under_the_character():
    spec = kit.clip_specs("train", 1)[0]
    bg = kit.render_background(spec.background, 64)
    pose = spec.poses()[0]
    frame = kit.compose(spec.character, pose, bg)
    alpha = np.asarray(kit.character_layer(spec.character, pose, 64))[..., 3]
    changed = (frame != bg).any(axis=2)
    assert changed.any() and not (changed & (alpha == 0)).any()


def test_cli_writes_real_videos_that_import_like_user_clips(tmp_path):
    r = run_module("engine.data.demokit", "--out", str(tmp_path), "--split", "test",
                   "--count", "3", "--size", "32")  # fmt: skip
    assert r.returncode == 0, r.stderr
    files = sorted(tmp_path.glob("*.mp4"))
    assert len(files) == 3 and "test-" in files[0].name
    clip = ClipReader(files[0])
    frames = list(clip.frames())
    assert len(frames) == kit.FRAMES and frames[0].shape == (32, 32, 3)
    assert clip.info.fps == kit.FPS
    spec = kit.clip_specs("test", 1)[0]
    truth = kit.render_clip(spec, 32)
    assert np.abs(np.stack(frames).astype(int) - truth).mean() < 6  # H.264 at high quality


@pytest.mark.parametrize("args", [["--count", "0"], ["--size", "8"]])
def test_cli_bad_numbers_are_one_line(tmp_path, capsys, args):
    from conftest import run_main

    code, err = run_main(kit.main, ["--out", str(tmp_path), *args], capsys)
    assert code == 2 and err.startswith("error:") and "Traceback" not in err
