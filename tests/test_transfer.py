"""Motion transfer (issue 30, engine.frames.transfer): the motion's path over the ground, the
set's perspective, upright, the character's own steps — on tracks whose answer is known, and
through the Director in both render modes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.frames import transfer as tr


def _walker(n: int = 20, stride: float = 2.0, heading: int = 1, loop: int = 4) -> tr.Walker:
    """Character A walking right ``stride`` px a frame in its own clip, its ground point at
    (10 + stride·i, 50), its centre 20 px above it."""
    ground = np.column_stack([10 + stride * heading * np.arange(n), np.full(n, 50.0)])
    return tr.Walker(np.arange(n), loop, stride, heading, ground, ground - (0, 20),
                     np.r_[0.0, np.cumsum(np.full(n - 1, stride))])  # fmt: skip


def _plan(track: np.ndarray, steps="cycle", size="set", turns="upright", walker=None,
          perspective=None, frames=None, out=(320, 240), poses=None, level=None):  # fmt: skip
    """A plan of C's ground ``track`` (its clip's pixels, the output's too), output frame t
    showing C's frame ``frames[t]`` (t itself by default)."""
    frames = np.arange(len(track)) if frames is None else np.asarray(frames)
    src = tr.Sources(motion=track, to_output=np.eye(3),
                     drive=lambda t: (int(frames[min(t, len(frames) - 1)]), None),
                     walker=walker or _walker(), fit=np.eye(3), set_rows=lambda y: y,
                     perspective=perspective or tr.Perspective(), turn=lambda k: 30.0,
                     size=out, poses=poses, level=level)
    return tr.Plan(src, steps, size, turns)


def test_the_path_is_the_motions_over_the_ground_and_the_walk_keeps_its_feet():
    """A's ground point goes where C's goes from where A stood (its anchor), upright, its size;
    A's frames advance as far as the path went (its feet do not slide), hold while C stops, and
    are mirrored when the path heads against A's own way."""
    x = np.r_[np.arange(0, 30, 3.0), np.full(6, 27.0), 27 - 1.5 * np.arange(1, 11)]
    track = np.column_stack([100 + x, np.full(len(x), 150.0)])
    plan = _plan(track, size="fixed")
    places = [plan.at(t) for t in range(len(track))]
    for t, p in enumerate(places):  # the anchor (A's first ground point) moved as C moved
        np.testing.assert_allclose(p.point, (10 + x[t], 50), atol=1e-9)
        assert p.angle == 0 and p.scale == 1
        m = p.matrix(1.0, p.foot - (0, 20))
        np.testing.assert_allclose(m @ np.append(p.foot, 1), np.append(p.point, 1), atol=1e-9)
    frames = [p.frame for p in places]
    # 3 px a frame against a 2 px stride: 1.5 of its frames a frame; held in the pause
    assert frames[:10] == [int(1.5 * t + 1e-9) for t in range(10)]
    assert len(set(frames[9:16])) == 1
    assert not any(p.mirror for p in places[:16]) and all(p.mirror for p in places[17:])
    assert places[17].matrix(1.0, places[17].foot)[0, 0] == -1  # mirrored about its feet
    # A's travelled distance tracks the path's: its feet slide by less than a pixel
    walked = np.abs(np.diff(x)).sum()
    assert plan.src.walker.frame_at(walked) == frames[-1] or walked > 18 * 2
    assert plan.note() == ""


def test_a_hop_carries_the_character_up_but_its_steps_go_by_the_ground_covered():
    """C hops along (2 px a frame across, bouncing 20 px up every 6 frames): the character's
    ground point rides the bounce, but its frames advance by the ground covered — 2 px a frame
    against its 2 px stride: one of its frames a frame — not by the bounce's ups and downs (which
    would race its legs); a walk coming down the frame (towards the camera) still counts."""
    t = np.arange(36)
    track = np.column_stack([100 + 2.0 * t, 150 - 20 * np.abs(np.sin(np.pi * t / 6))])
    motion, level = tr.track(track)
    plan = _plan(motion, size="fixed", level=level, walker=_walker(n=120))
    places = [plan.at(k) for k in t]
    np.testing.assert_allclose([p.point[1] - 50 for p in places], motion[:, 1] - motion[0, 1])
    assert np.abs(np.array([p.frame for p in places]) - t).max() <= 1
    racing = _plan(motion, size="fixed", walker=_walker(n=120))  # (the bounce spent as steps)
    assert racing.at(35).frame > places[35].frame + 10
    down = tr.distances(np.column_stack([np.full(36, 50.0), 100 + 2.0 * t]))
    np.testing.assert_allclose(down[-1], 70, rtol=0.02)
    bounce = tr.distances(track)
    assert bounce[-1] == pytest.approx(70, rel=0.15)


def test_a_character_that_jumps_in_its_own_clip_does_not_jump_twice_on_a_hop():
    """A's own frames keep it off the ground where it jumps in its clip (its own jump, on a
    walk's path); on a path that hops, its feet go as high as the higher of the two — C's hop
    or its own jump — not both added (a hopping puppet on a hopping path bounced twice as
    high)."""
    t = np.arange(36)
    own = 12 * np.abs(np.sin(np.pi * np.arange(120) / 8))  # A's own jump in each of its frames
    wk = dataclasses.replace(_walker(n=120), lifted=own)
    hop = 20 * np.abs(np.sin(np.pi * t / 6))
    track = np.column_stack([100 + 2.0 * t, 150 - hop])
    plan = _plan(track, size="fixed", walker=wk, level=tr.level(track)[:, 1])
    places = [plan.at(k) for k in t]
    feet = np.array([50 - (p.point[1] - own[p.i]) for p in places])  # its feet's rise off 50
    mine = own[[p.i for p in places]]
    np.testing.assert_allclose(feet, np.maximum(hop, mine), atol=1.0)  # (C's floor: estimated)
    both = (hop > 4) & (mine > 4)
    assert both.sum() > 10 and (feet[both] < hop[both] + mine[both] - 3).all()
    flat = _plan(np.column_stack([100 + 2.0 * t, np.full(36, 150.0)]), size="fixed", walker=wk)
    on_walk = [flat.at(k) for k in t]  # on a path that does not hop: its own jump, whole
    np.testing.assert_allclose([50 - (p.point[1] - own[p.i]) for p in on_walk],
                               own[[p.i for p in on_walk]], atol=1e-9)


def test_a_quick_hop_lands_and_a_flickering_cut_out_is_smoothed():
    """The track's smoothing takes as much as the track itself says is noise: clean quick hops
    (a bounce of 28 px every 6.5–10 frames, landings between frames or on one) keep their
    landings — a line fitted at σ = 1 frame (the smoothing before) left the character hovering
    4–6 px above the floor there — while a walk whose cut-out flickers by a pixel is smoothed
    more than that line smoothed it, and a gap stays a gap."""
    t = np.arange(48.0)
    ours, line = [], []
    for period in (6.5, 7, 7.3, 8, 9, 10):
        for phase in (0, 0.25, 0.5, 0.75):
            y = 211 - 28 * np.abs(np.sin(np.pi * (t + phase) / period))
            landing = y > 211 - 28 * np.sin(np.pi / period)  # the frames nearest each landing
            hop = np.column_stack([100 + 2 * t, y])
            ours.append(np.abs(tr.smoothed(hop) - hop)[landing, 1].mean())
            line.append(np.abs(tr.smoothed(hop, 1.0, degree=1) - hop)[landing, 1].mean())
    assert min(line) > 4 and np.mean(ours) < 0.4 * np.mean(line)
    rng = np.random.default_rng(0)
    t = np.arange(120.0)
    walk = np.column_stack([100 + 1.5 * t, 150 + 0.05 * t])
    seen = walk + rng.normal(0, 1.0, walk.shape)
    seen[[9, 30]] = np.nan
    ours, line = tr.smoothed(seen), tr.smoothed(seen, 1.0, degree=1)
    ok = ~np.isnan(seen[:, 0])
    assert np.isnan(ours[~ok]).all() and not np.isnan(ours[ok]).any()
    assert np.std((ours - walk)[ok]) < min(0.6, np.std((line - walk)[ok]))


def test_a_part_of_the_body_the_matte_cut_off_is_the_bodys():
    """Arms flung up over the head, cut off from the body by the matte and counted as a subject
    of their own, are the followed subject's (its ground point's middle takes them in); another
    subject as big, or far off, is not."""
    labels = np.zeros((100, 120), np.uint16)
    labels[30:90, 20:40] = 1  # the body
    labels[20:27, 24:36] = 2  # its arms, a little above its head
    labels[30:90, 80:100] = 3  # another person beside it
    labels[2:5, 110:114] = 4  # a speck far off
    shown = labels > 0
    body = tr.body(labels, shown, (1,))
    assert body[labels == 2].all() and not body[labels == 3].any() and not body[labels == 4].any()
    assert body[labels == 1].all() and not tr.body(labels, shown, (5,)).any()


def test_past_its_last_frame_the_walk_goes_round_its_cycle():
    wk = _walker(n=10, loop=4)
    assert [wk.frame_at(2.0 * i) for i in range(10)] == list(range(10))
    assert [wk.frame_at(2.0 * i) for i in range(10, 18)] == [4, 5, 6, 7, 8, 9, 4, 5]
    assert [wk.frame(i) for i in (9, 10, 15, 16)] == [9, 4, 9, 4]


def test_the_set_says_how_big_the_character_is_where_the_path_takes_it():
    """Receding up the frame on a set whose subjects are h = 0.5·y − 20 px tall: the scale is
    what the set says at each row (within 5 %), fixed when asked, bounded above the horizon;
    the turn is C's only when the shot follows it."""
    persp = tr.Perspective(-20.0, 0.5, True)
    y = np.linspace(200, 100, 15)
    track = np.column_stack([np.full(15, 160.0), y])
    walker = _walker()
    walker.ground[:, 1] = 200  # A stands at row 200 on its first frame (its anchor)
    plan = _plan(track, perspective=persp, walker=walker)
    for t in range(15):
        want = (0.5 * y[t] - 20) / (0.5 * 200 - 20)
        assert plan.at(t).scale == pytest.approx(want, rel=0.05)
    assert _plan(track, size="fixed", perspective=persp, walker=walker).at(14).scale == 1
    high = np.column_stack([np.full(3, 160.0), [200.0, 30.0, 10.0]])  # above the horizon
    assert _plan(high, perspective=persp, walker=walker).at(2).scale == tr.SCALE_RANGE[0]
    assert _plan(track, turns="follow").at(3).angle == 30.0
    assert "size stays fixed" in _plan(track).note()  # a flat set says so


class _Layers:
    """Clip layers showing one subject a frame: a box whose foot is at row ``foot[k]`` and whose
    height is ``tall[k]``, at column ``x``."""

    def __init__(self, foot, tall, x=100, size=(320, 240)):
        self.foot, self.tall, self.x, self.size = foot, tall, x, size

    def __len__(self) -> int:
        return len(self.foot)

    def cutout(self, k, subjects=()):
        h = int(self.tall[k])
        rgba = np.zeros((h, 10, 4), np.uint8)
        rgba[..., 3] = 255
        return rgba, self.x, int(self.foot[k]) - h + 1

    def labels(self, k):
        return np.ones((int(self.tall[k]), 10), np.uint16)


def test_the_perspective_is_learnt_from_the_subjects_the_set_shows():
    foot = np.tile(np.linspace(100, 230, 14), 3)
    learnt = tr.perspective(_Layers(foot, 0.5 * foot - 20))
    assert learnt.known and learnt.scale(200, 100) == pytest.approx(30 / 80, rel=0.02)
    flat = tr.perspective(_Layers(np.full(30, 200.0), np.full(30, 80.0)))  # one depth only
    assert not flat.known and flat.scale(200, 100) == 1
    upside = tr.perspective(_Layers(foot, 150 - 0.5 * foot))  # taller further up: not a floor
    assert not upside.known
    foot_of = tr.footing(_Layers(foot[:5], np.full(5, 40.0)))
    np.testing.assert_allclose(foot_of.ground, np.column_stack([np.full(5, 104.5), foot[:5]]))


def test_what_cannot_be_done_well_is_said_and_stays_bounded():
    """Nothing moves in C: the character stands at its anchor; C's subject out of sight: it
    waits where it was; a path out of the frame: said; a one-frame character: held."""
    none = _plan(np.full((12, 2), np.nan))
    assert all(np.allclose(none.at(t).point, (10, 50)) for t in range(12))
    assert "nothing moves" in none.note()
    track = np.column_stack([100 + 4.0 * np.arange(12), np.full(12, 150.0)])
    track[6:] = np.nan
    lost = _plan(track)
    assert np.allclose(lost.at(11).point, lost.at(5).point)
    assert "out of sight from frame 7" in lost.note()
    away = np.column_stack([100 + 40.0 * np.arange(12), np.full(12, 150.0)])
    away = _plan(away)
    away.at(11)
    assert "leaves the frame at frame 9" in away.note()  # 10 + 40·8 ≥ 320: the 9th frame
    one = _plan(track, walker=_walker(n=1))
    assert {one.at(t).frame for t in range(12)} == {0} and "one frame" in one.note()


def test_matched_poses_keep_time_order():
    """Two frames of A that look alike: the match stays on the one that goes on in order."""
    own = np.zeros((20, 2), np.float32)
    own[:, 0] = np.arange(20) % 10  # frames i and i + 10 look alike
    motion = own.copy()
    track = np.column_stack([100 + np.arange(20.0), np.full(20, 150.0)])
    walker = dataclasses.replace(_walker(), poses=own)
    plan = _plan(track, steps="match", walker=walker, poses=(motion, 0))
    assert [plan.at(t).frame for t in range(20)] == list(range(20))


def test_both_render_modes_put_the_character_in_the_same_place(tmp_path, clip_dir, model_file):
    """Issue 30.3: switching the renderer changes the look of the body, not where it goes —
    model mode's theta is the pixels mode's root motion (the same plan), and the frame key of
    a transfer holds how it is posed, sized and turned."""
    from engine.document import Project
    from engine.frames.director import Director
    from engine.frames.key import frame_key

    p = Project.create(tmp_path / "Modes")
    a, c = (p.import_clip(clip_dir / f"clip_{i}.mp4").id for i in (0, 1))
    shot = p.add_shot((a, 0), (a, 0), c, duration=6, pose="rigid")
    p.set_output_size((64, 64))
    d = Director(p, model_file, device="cpu", precision="fp32")
    centres = {}
    for mode in ("pixels", "model"):
        p.set_render_mode(mode)
        d.clear()
        d.frame(4)
        centres[mode] = d.character_centre(shot.id, 4)
    np.testing.assert_allclose(centres["pixels"], centres["model"], atol=1e-6)
    keys = {frame_key(p.shots[0], 4, "composite", "pixels")}
    for change in ({"size": "fixed"}, {"turns": "follow"}, {"pose": "cycle"}):
        keys.add(frame_key(p.update_shot(shot.id, **change) and p.shots[0], 4, "composite",
                           "pixels"))  # fmt: skip
    assert len(keys) == 4


def test_the_inspector_sets_a_transfers_steps_size_and_turns(qtbot, make_window, tmp_path):
    """Issue 30.4: the inspector shows a transfer's settings in an animator's words, each an
    undoable edit (undone through Edit → Undo), off for a shot that is not a transfer; what
    the transfer cannot do well is said under them once its frames are made."""
    from engine.document import Project
    from tests.conftest import demo, opened

    p = Project.open(demo(tmp_path))
    w = opened(qtbot, make_window, p)
    s, insp = w.session, w.inspector
    shot = next(x for x in s.project.shots if x.name.startswith("Animation transfer"))
    s.select(shot.id)
    s.seek(s.timeline.start_of(shot.id) + 5)
    assert insp.size_box.isEnabled() and insp.turns.isEnabled()
    assert insp.pose.currentText() == "Its own walk cycle"
    for combo, value, field in ((insp.pose, "match", "pose"), (insp.size_box, "fixed", "size"),
                                (insp.turns, "follow", "turns")):  # fmt: skip
        combo.setCurrentIndex(combo.findData(value))
        combo.activated.emit(combo.currentIndex())
        assert getattr(s.project.shot(shot.id), field) == value
    assert s.undo.undoText() == "Turns → Follow the motion's turns"
    undo = next(a for a in w.menuBar().actions()[1].menu().actions() if "Undo" in a.text())
    for _ in range(3):
        undo.trigger()
    assert (s.project.shot(shot.id).turns, s.project.shot(shot.id).pose) == ("upright", "cycle")
    assert insp.turns.currentData() == "upright" and insp.pose.currentData() == "cycle"
    # Bo jumps on the spot in its own clip: its frames play at their own pace, and it says so
    qtbot.waitUntil(lambda: "does not walk in its own clip" in insp.transfer_note.text(),
                    timeout=60_000)  # fmt: skip
    assert insp.transfer_note.isVisible()
    as_shot = s.project.shots[0]
    s.select(as_shot.id)
    assert not insp.size_box.isEnabled() and not insp.transfer_note.isVisible()


def test_a_still_character_or_a_motion_where_nothing_moves_is_said_not_a_traceback(tmp_path):
    """Bad input (issue 30): a character clip of one frame (a still) is held in its pose; a
    motion clip where nothing moves leaves the character standing — each frame made, each said
    in the shot's note."""
    import cv2

    from engine.data import demokit as kit
    from engine.data.clips import write_video
    from engine.document import Project
    from engine.frames.director import Director

    frames = kit.render_clip(kit.clip_specs("test", 4)[0], (160, 120))
    write_video(tmp_path / "walk.mp4", frames, fps=12, quality=9)
    cv2.imwrite(str(tmp_path / "still.png"), cv2.cvtColor(frames[3], cv2.COLOR_RGB2BGR))
    write_video(tmp_path / "static.mp4", np.repeat(frames[:1], 12, 0), fps=12, quality=9)
    p = Project.create(tmp_path / "Hostile.zoetrope")
    walk, still, static = (p.import_clip(tmp_path / f).id for f in ("walk.mp4", "still.png",
                                                                    "static.mp4"))  # fmt: skip
    p.add_shot((still, 0), (walk, 0), walk, duration=30, loop="loop")
    p.add_shot((walk, 0), (walk, 0), static, duration=12)
    d = Director(p, device="cpu")
    assert all(d.frame(t).shape == (120, 160, 3) for t in (0, 17, 29, 30, 41))
    assert "one frame: its pose is held" in d.transfer_note(p.shots[0])
    assert {d.place(p.shots[0], t).frame for t in range(30)} == {0}
    assert "nothing moves in the motion's clip" in d.transfer_note(p.shots[1])
    still_at = {tuple(d.place(p.shots[1], t).point) for t in range(12)}
    assert len(still_at) == 1
