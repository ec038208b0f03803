"""Motion on the beat (issue 16, second part): the beat tracker on a click track, its cache,
beats on the timeline's frames, motion accents, fitting a shot to beats (holds only when asked,
no accent skipped), an endless walk that jumps on beats, and the fit in the project file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import audio, beats
from engine.document import SCHEMA_VERSION, Project, ProjectError
from engine.frames.key import frame_key
from engine.frames.motion import TransitionGraph, Walker


@pytest.mark.slow
def test_the_tracker_finds_a_click_tracks_beats_within_half_a_frame(tmp_path, capsys):
    """128 BPM clicks from 0.5 s (librosa's tracker): every true beat found within 20 ms (half
    a frame at 24 fps), the tempo within 1 BPM, the sound called steady; the analysis is cached
    by the file's bytes, and the cache is what a second call reads."""
    track, truth = audio.click_track(128, 12.0, first=0.5)
    wav = audio.write_wav(tmp_path / "click.wav", track)
    found = beats.beats_of(wav, root=tmp_path / "cache")
    error = np.array([np.abs(found.beats - t).min() for t in truth])
    assert error.max() < 0.020, error
    assert abs(found.tempo - 128) < 1 and found.steady
    assert len(found.beats) <= len(truth) + 1
    cached = list((tmp_path / "cache").glob("*.json"))
    assert len(cached) == 1
    doc = json.loads(cached[0].read_text())
    doc["tempo"] = 77.0  # what the cache says is what comes back
    cached[0].write_text(json.dumps(doc))
    assert beats.beats_of(wav, root=tmp_path / "cache").tempo == 77.0
    silence = beats.analyse(np.zeros((audio.RATE, 2), np.float32))
    assert len(silence.beats) == 0 and not silence.steady
    # clicks at random times (no pulse): the tracker still puts beats there; not steady
    rng = np.random.default_rng(0)
    y, _ = audio.click_track(60, 12.0)
    y[:] = 0
    for t in np.cumsum(rng.uniform(0.1, 0.9, 20)):
        y[round(t * audio.RATE) : round(t * audio.RATE) + 400] += 0.5
    assert beats.analyse(y).pulse < beats.STEADY
    # the studio's child process: JSON on stdout; a bad file named, no traceback
    from conftest import run_main, run_module

    r = run_module("engine.beats", str(wav))
    assert r.returncode == 0 and abs(json.loads(r.stdout)["tempo"] - 128) < 1
    bad = tmp_path / "notes.ogg"
    bad.write_text("not a sound")
    code, err = run_main(beats.main, [str(bad)], capsys)
    assert code == 2 and "notes.ogg" in err and "Traceback" not in err


def test_beats_fall_on_the_frames_that_show_them():
    b = beats.Beats(np.array([0.0, 0.5, 1.0, 1.49]), np.zeros(0), 120.0, 10.0)
    assert beats.Beats.beat_frames(b, 0.0, 24).tolist() == [0, 12, 24, 35]
    # the sound starts 0.25 s into the timeline; a beat before frame 0 or past the end is left out
    assert b.beat_frames(0.25, 24, count=36).tolist() == [6, 18, 30]
    assert b.beat_frames(-0.5, 24).tolist() == [0, 12, 23]


def test_accents_are_the_peaks_of_the_motions_speed():
    speed = 0.2 + np.abs(np.sin(np.arange(48) * np.pi / 8))  # a bounce every 8 frames
    acc = np.flatnonzero(beats.accents(speed))
    assert acc.tolist() == [4, 12, 20, 28, 36, 44]
    assert not beats.accents(np.ones(30)).any()  # an even motion has no accent


def _every(period: int, phase: int, n: int) -> np.ndarray:
    a = np.zeros(n, bool)
    a[phase::period] = True
    return a


@pytest.mark.parametrize("holds", [False, True])
def test_a_fit_puts_accents_on_beats_without_repeating_or_skipping_them(holds):
    """Accents every 7 motion frames, beats every 12 output frames: as played, about a fifth
    of the accents land within a frame of a beat; fitted without holds, no frame is shown twice
    in a row and more land; with holds, every accent lands on a beat."""
    acc, bt, d = _every(7, 3, 600), np.arange(5, 240, 12), 240
    plain = beats.share_on_beat(np.arange(d), acc, bt)
    steps = beats.fit(acc, bt, d, holds=holds)
    moves = np.diff(steps)
    assert steps[0] == 0 and moves.min() >= (0 if holds else 1) and moves.max() <= 2
    skipped = steps[:-1][moves == 2] + 1
    assert not acc[skipped].any()  # an accent is never jumped over
    on, shown = beats.share_on_beat(steps, acc, bt)
    assert on / shown > 1.5 * plain[0] / plain[1]
    if holds:
        assert on == shown and (moves == 0).any()
    random = [beats.share_on_beat(beats.random_retime(d, 600, s, holds), acc, bt) for s in range(5)]
    assert on / shown > max(a / b for a, b in random)


def test_a_fit_of_a_motion_played_once_ends_on_its_last_frame():
    acc = _every(5, 2, 20)  # 20 frames, 30 output frames: it must hold at the end
    steps = beats.fit(acc, np.arange(0, 30, 6), 30)
    assert steps.max() == 19 and (np.diff(steps) >= 0).all()
    assert (np.diff(steps)[steps[1:] < 19] >= 1).all()  # no hold before the end


def test_an_endless_walk_on_the_beat_jumps_on_beats_and_lands_its_accents():
    """A 48-frame clip with accents here and there; beats every 10 steps. On the beat the
    walk's jumps fall on beats (but where it must jump: the clip's end, or a run it would
    show twice) and more of its accents land on beats."""
    rng = np.random.default_rng(0)
    n = 48
    d = rng.random((n, n))
    graph = TransitionGraph.build((d + d.T) / 2)
    acc = np.zeros(n, bool)
    acc[[3, 11, 16, 27, 33, 41, 45]] = True
    beat = np.zeros(600, bool)
    beat[::10] = True

    def share(walk):
        return beats.on_beat(np.flatnonzero(acc[walk]), np.flatnonzero(beat)).mean()

    def on_beats(walk):  # of the jumps not forced by the clip's end
        jumps = np.flatnonzero(np.diff(walk) != 1) + 1
        return beat[jumps[walk[jumps - 1] != n - 1]].mean()

    for seed in range(3):
        free = Walker(graph, seed, 0.7).extend(600)
        tuned = Walker(graph, seed, 0.7, beats=beat, accent=acc).extend(600)
        assert on_beats(tuned) > 0.9 and on_beats(free) < 0.25
        assert share(tuned) > share(free) + 0.15


def test_fitting_shots_of_a_project_saves_opens_undoes_and_migrates(tmp_path):
    """On the demo project (the built-in model's T^Z): the Director fits a looping shot (steps
    that go on, no frame twice, more accents on beats) and an endless one (the beats it jumps
    on); the fit saves and opens, changes the frames' keys, is dropped when the speed changes
    (undo gives it back), and a version-5 project opens with no fit."""
    from conftest import demo

    from engine.frames.director import Director

    film = Project.open(demo(tmp_path))
    jump = next(c.id for c in film.clips.values() if c.name == "Bo jumps")
    loop = film.add_shot((jump, 0), (jump, 0), jump, duration=96, loop="loop")
    endless = film.add_shot((jump, 0), (jump, 0), jump, duration=96, loop="endless")
    d = Director(film, device="cpu")
    bt = np.arange(3, 96, 8)
    acc = d.step_accents(loop, 193)
    assert acc.any() and (acc[:24] == acc[24:48]).all()  # a 24-frame clip, looped
    fit = d.fit_to_beats(loop, bt)
    assert fit["beats"] == tuple(bt.tolist()) and len(fit["timing"]) == 96
    assert (np.diff(fit["timing"]) >= 1).all()
    before = beats.share_on_beat(np.arange(96), acc, bt)
    after = beats.share_on_beat(np.array(fit["timing"]), acc, bt)
    assert after[0] / after[1] > before[0] / before[1]
    film.update_shot(loop.id, **fit)
    key = frame_key(film.shot(loop.id), 5, "composite")
    assert film.shot(loop.id).motion_u(5) == fit["timing"][5]
    assert "on the beat" in film.shot(loop.id).tags()
    ends = d.fit_to_beats(endless, bt)
    assert ends["beats"] == tuple(bt.tolist()) and len(ends["timing"]) == 96
    assert (np.diff(ends["timing"]) >= 1).all()
    film.update_shot(endless.id, **ends)
    assert frame_key(film.shot(endless.id), 40, "composite") != frame_key(endless, 40, "composite")
    film.save()
    again = Project.open(film.root)
    assert again.shot(loop.id).timing == fit["timing"]
    assert again.shot(endless.id).beats == ends["beats"]
    assert frame_key(again.shot(loop.id), 5, "composite") == key
    old = film.update_shot(loop.id, speed=2.0)
    assert film.shot(loop.id).timing == () and old["timing"] == fit["timing"]
    film.update_shot(loop.id, **old)
    assert film.shot(loop.id).timing == fit["timing"]
    with pytest.raises(ProjectError, match="going back"):
        film.update_shot(loop.id, timing=(0, 2, 1))
    assert film.shot(loop.id).timing == fit["timing"]  # refused: nothing changed
    film.save()
    doc = json.loads(film.file.read_text())
    assert doc["schema_version"] == SCHEMA_VERSION
    doc["schema_version"] = 5
    for s in doc["timeline"]["shots"]:
        del s["beat_fit"], s["subjects"], s["driver"]
    film.file.write_text(json.dumps(doc))
    assert all(s.beats == () and s.timing == () for s in Project.open(film.root).shots)


@pytest.mark.slow  # analyses the demo's clips for the two frames it renders
def test_render_fits_shots_to_the_beats_headless(tmp_path):
    """`python -m engine.render … --fit-beats 5`: shot 5 of a demo copy fitted to the demo's drum
    loop, the project saved; a shot that is not there is named, nothing written."""
    from conftest import demo, run_module

    root = demo(tmp_path)
    out = tmp_path / "two.mp4"
    bad = run_module("engine.render", str(root), "--out", str(out), "--fit-beats", "99",
                     "--device", "cpu")  # fmt: skip
    assert bad.returncode == 2 and "--fit-beats 99: no such shot" in bad.stderr
    assert not out.exists()
    r = run_module("engine.render", str(root), "--out", str(out), "--range", "0:1",
                   "--fit-beats", "5", "--holds", "--device", "cpu")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "fitted Ping-pong" in r.stderr and out.is_file()
    shot = Project.open(root).shots[4]
    assert shot.beats and len(shot.timing) == shot.duration
