"""Motion on the beat, on generated tracks and held-out demo-kit motions (docs/RESULTS.md).

    python bench/beats.py [--size 320x240] [--clips 6] [--seconds 30] [--figure docs/figures/x.png]

Tracks, each generated here with half a second of silence before its first beat:

- a click track at 90 and at 128 BPM (engine.audio.click_track);
- a drum loop at 100 BPM with swung hi-hats (engine.audio.drum_loop, swing 0.33);
- "speech": synthetic babble (voiced syllables of random length and pitch through vowel
  formants, with pauses) — no beat at all.

**Tracker** (engine.beats.analyse, librosa): against the true beats of the first three, the
error of the nearest found beat to each true one (mean, worst), the share found within 70 ms
(the usual tolerance of beat-tracking evaluations), the tempo; for every track, how clearly it
has a beat (``pulse``) and whether the studio calls it steady.

**Motion** (held-out kit clips, one per motion family, through the Director at the kit's
12 fps): each clip as a looping shot ``--seconds`` long, on each track's *tracked* beats; the
share of the motion's accents (engine.beats.accents) within ±1 frame of a beat — as played, for
a random retime with the same kinds of moves (mean of 10), fitted without holds, fitted with
holds; and each clip as an endless shot, its walk plain, on the beat (jumps on beats) and on the
beat and fitted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from motion import held_out_specs

from engine import audio, beats, checkpoint
from engine.data import demokit as kit
from engine.data.clips import write_video
from engine.document import Project
from engine.frames.director import Director
from engine.frames.layers import LayerCache

LEAD = 0.5
VOWELS = ((730, 1090), (270, 2290), (300, 870), (530, 1840), (640, 1190), (490, 1350))


def babble(seconds: float, seed: int = 0, rate: int = audio.RATE) -> np.ndarray:
    """Speech-like sound with no beat: syllables 80–300 ms long at 100–170 Hz, each a vowel
    (two formants), gliding in pitch, with pauses of random length between them."""
    rng = np.random.default_rng(seed)
    out = np.zeros(round(seconds * rate), np.float32)
    t = LEAD
    while t < seconds - 0.4:
        n = round(rng.uniform(0.08, 0.3) * rate)
        f0 = rng.uniform(100, 170) * np.linspace(1.0, rng.uniform(0.85, 1.15), n)
        phase = 2 * np.pi * np.cumsum(f0) / rate
        f1, f2 = VOWELS[rng.integers(len(VOWELS))]
        voice = np.zeros(n)
        for k in range(1, 30):
            freq = k * f0.mean()
            gain = np.exp(-(((freq - f1) / 120) ** 2)) + 0.6 * np.exp(-(((freq - f2) / 180) ** 2))
            voice += gain / k**0.5 * np.sin(k * phase)
        i = round(t * rate)
        part = out[i : i + n]
        part += (0.3 * voice * np.hanning(n))[: len(part)].astype(np.float32)
        t += n / rate + rng.exponential(0.08) + (rng.uniform(0.2, 0.6) if rng.random() < 0.2 else 0)
    return np.repeat(out[:, None], 2, axis=1)


def tracks(seconds: float) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    return {
        "click 90 BPM": audio.click_track(90, seconds, first=LEAD),
        "click 128 BPM": audio.click_track(128, seconds, first=LEAD),
        "drums 100 BPM, swing": audio.drum_loop(100, seconds, swing=0.33, first=LEAD),
        "speech (no beat)": (babble(seconds), None),
    }


def tracker(found: beats.Beats, truth: np.ndarray | None, bpm: float | None) -> dict:
    out = {"tempo": round(found.tempo, 1), "pulse": round(found.pulse, 3),
           "steady": found.steady, "beats_found": len(found.beats)}  # fmt: skip
    if truth is not None:
        err = np.array([np.abs(found.beats - t).min() for t in truth])
        out |= {"true_tempo": bpm, "true_beats": len(truth),
                "error_mean_ms": round(1000 * float(err.mean()), 1),
                "error_max_ms": round(1000 * float(err.max()), 1),
                "within_70ms": round(float((err <= 0.07).mean()), 3)}  # fmt: skip
    return out


def jump_cost(graph, frames: np.ndarray) -> tuple[float, int]:
    """(the summed cost of a walk's jumps above going on — the transition graph's own units,
    squared filtered distances in units of the clip's median —, the jumps): the visual price."""
    total, count = 0.0, 0
    n = len(graph)
    for i, j in zip(frames[:-1], frames[1:], strict=True):
        if j != i + 1:
            going = graph.total[i, i + 1] if i + 1 < n else graph.total[i][graph.jumps[i]].min()
            total += float(graph.total[i, j] - going)
            count += 1
    return total, count


def share(steps, acc, bt) -> tuple[int, int]:
    return beats.share_on_beat(np.asarray(steps), acc, bt)


def motion(director: Director, project: Project, clip_id: str, bt: np.ndarray,
           length: int) -> dict:  # fmt: skip
    """Accents on beats for one clip and one track's beat frames (timeline = local: the shot
    starts at frame 0)."""
    out = {}
    shot = project.add_shot((clip_id, 0), (clip_id, 0), clip_id, loop="loop", duration=length)
    acc = director.step_accents(shot, 2 * length + 1)
    out["as played"] = share(np.arange(length), acc, bt)
    rnd = [share(beats.random_retime(length, len(acc), s), acc, bt) for s in range(10)]
    out["random retime"] = (sum(a for a, _ in rnd) / 10, sum(b for _, b in rnd) / 10)
    for holds in (False, True):
        start = time.perf_counter()
        fit = director.fit_to_beats(shot, bt, holds)
        out["fit ms"] = (out.get("fit ms", (0, 0))[0] + 1000 * (time.perf_counter() - start),
                         out.get("fit ms", (0, 0))[1] + 1)  # fmt: skip
        out["fitted" + (", holds" if holds else "")] = share(fit["timing"], acc, bt)
    project.delete_shot(shot.id)
    walk = project.add_shot((clip_id, 0), (clip_id, 0), clip_id, loop="endless",
                            duration=length, seed=1)  # fmt: skip
    out["endless"] = share(np.arange(length), director.step_accents(walk, length), bt)
    fit = director.fit_to_beats(walk, bt)
    on_beat = dataclasses.replace(walk, beats=fit["beats"])
    out["endless on the beat"] = share(np.arange(length), director.step_accents(on_beat, length),
                                       bt)  # fmt: skip
    graph = director.inputs.graph(clip_id, 0, project.clip(clip_id).frames - 1)
    for name, s in (("endless", walk), ("endless on the beat", on_beat)):
        walked = director.drives.walk(s, length - 1).frames[:length]
        out[f"jump cost: {name}"] = jump_cost(graph, walked)
    fitted = dataclasses.replace(walk, **fit)
    acc = director.step_accents(fitted, max(fit["timing"]) + 1)
    out["endless on the beat, fitted"] = share(fit["timing"], acc, bt)
    project.delete_shot(walk.id)
    return out


def demo_shots() -> dict:
    """The shipped demo's fitted shots: (accents on a beat, accents) fitted and as played."""
    from engine.assets import DEMO_PROJECT

    project = Project.open(DEMO_PROJECT)
    director = Director(project, device="cpu")
    found = beats.beats_of(project.sound_path())
    out = {}
    for shot in project.shots:
        if not shot.timing:
            continue
        start = project.timeline.start_of(shot.id)
        bt = found.beat_frames(project.soundtrack.offset, project.fps) - start
        acc = director.step_accents(shot, max(shot.timing) + 2 * shot.duration + 1)
        plain = dataclasses.replace(shot, beats=(), timing=())
        out[shot.name] = {
            "fitted": share([shot.motion_u(t) for t in range(shot.duration)], acc, bt),
            "as played": share([plain.motion_u(t) for t in range(shot.duration)], acc, bt)}
    return out


def figure(path: str, rows: list[tuple[str, np.ndarray]], bt: np.ndarray, length: int,
           title: str) -> None:  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 0.55 * len(rows) + 1.1), dpi=110)
    for f in bt[bt < length]:
        ax.axvspan(f - 1.5, f + 1.5, color="#f3d98b", lw=0)
        ax.axvline(f, color="#c99a16", lw=1)
    for i, (name, shown) in enumerate(rows):
        on = beats.on_beat(shown, bt)
        y = len(rows) - 1 - i
        ax.scatter(shown[on], [y] * int(on.sum()), marker="v", s=60, color="#2a7d46")
        ax.scatter(shown[~on], [y] * int((~on).sum()), marker="v", s=60, color="#b23b3b")
        ax.text(-2, y, f"{name}  {on.sum()}/{len(shown)}", ha="right", va="center", fontsize=9)
    ax.set_yticks([])
    ax.set_xlim(-1, length)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("frame (12 fps); gold: beats ±1 frame; green accents on a beat, red off it")
    ax.set_title(title, fontsize=10)
    fig.subplots_adjust(left=0.25, right=0.98, bottom=0.3, top=0.85)
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="320x240")
    p.add_argument("--clips", type=int, default=6)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", help="PNG: accents against the drum loop's beats, one clip")
    args = p.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL)
    model.eval()
    fps = kit.FPS
    length = round((args.seconds - LEAD) * fps)
    results: dict = {"fps": fps, "seconds": args.seconds, "tracker": {}, "motion": {}}
    found = {}
    for name, (samples, truth) in tracks(args.seconds).items():
        start = time.perf_counter()
        found[name] = beats.analyse(samples)
        bpm = float(name.split()[1]) if truth is not None else None
        results["tracker"][name] = tracker(found[name], truth, bpm) | {
            "seconds": round(time.perf_counter() - start, 2)}
        print(name, json.dumps(results["tracker"][name]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = LayerCache(tmp / "layers")
        project = Project.create(tmp / "bench.zoetrope", fps=fps)
        clips = []
        for i, spec in enumerate(held_out_specs(args.clips, kit.FRAMES, args.seed)):
            path = tmp / f"{i}_{spec.motion}.mp4"
            write_video(path, kit.render_clip(spec, (w, h)), fps=fps, quality=9)
            clips.append((spec.motion, project.import_clip(path).id))
        director = Director(project, model, device="cpu", mode="pixels", layer_cache=cache,
                            frame_cache=cache.frames)  # fmt: skip
        for name, b in found.items():
            bt = b.beat_frames(0.0, fps, length)
            per = {m: motion(director, project, c, bt, length) for m, c in clips}
            total = {k: [sum(r[k][0] for r in per.values()), sum(r[k][1] for r in per.values())]
                     for k in next(iter(per.values()))}  # fmt: skip
            results["motion"][name] = {k: round(a / max(b_, 1), 3) for k, (a, b_) in
                                       total.items()} | {"per_clip": per}  # fmt: skip
            print(name, "per clip:", json.dumps({m: {k: round(a / max(b_, 1), 2) for k, (a, b_)
                                                     in r.items()} for m, r in per.items()}))
            print(name, json.dumps({k: v for k, v in results["motion"][name].items()
                                    if k != "per_clip"}), flush=True)  # fmt: skip
        if args.figure:
            name = "drums 100 BPM, swing"
            bt = found[name].beat_frames(0.0, fps, length)
            motion_name, clip_id = clips[1]
            shot = project.add_shot((clip_id, 0), (clip_id, 0), clip_id, loop="loop",
                                    duration=length)  # fmt: skip
            acc = director.step_accents(shot, 2 * length + 1)
            rows = [("as played", beats.accent_frames(np.arange(length), acc)),
                    ("random retime", beats.accent_frames(beats.random_retime(length, len(acc), 0),
                                                          acc))]  # fmt: skip
            for holds in (False, True):
                steps = np.array(director.fit_to_beats(shot, bt, holds)["timing"])
                rows.append(("fitted" + (", holds" if holds else ""),
                             beats.accent_frames(steps, acc)))  # fmt: skip
            span = min(length, 10 * fps)
            rows = [(n, s[s < span]) for n, s in rows]
            figure(args.figure, rows, bt, span,
                   f"Held-out '{motion_name}' clip on the swung drum loop: its accents, first "
                   f"{span // fps} s")  # fmt: skip
    results["demo"] = demo_shots()
    print(json.dumps({k: v for k, v in results.items() if k != "motion"}
                     | {"motion": {t: {k: v for k, v in r.items() if k != "per_clip"}
                                   for t, r in results["motion"].items()}}, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
