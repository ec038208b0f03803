"""Beats: where a soundtrack's beats are, where a motion's accents are, and motion put on beats.

Data path role: the project's soundtrack (engine.audio) → :func:`analyse` (librosa's onset
envelope and dynamic-programming beat tracker, Ellis 2007) → :class:`Beats`, cached on disk by
the sound file's bytes (:func:`beats_of`). The timeline draws them and snaps to them
(:meth:`Beats.frames`); "Fit shot to beats" (engine.frames.director.Director.fit_to_beats) retimes a
shot with :func:`fit` so that its motion's accents (:func:`accents`: peaks of how fast T^Z moves
the character between consecutive frames) fall on them; an endless shot's walk jumps on them
(engine.frames.motion.Walker's ``beats``).

librosa is imported only here, and only when a sound is analysed (it brings numba, whose first
compile of the tracker takes seconds; numba caches it on disk for the next time). The studio runs
the analysis as a child process, ``python -m engine.beats SOUND`` (:func:`main`), so that its
imports and its work never hold the GUI's interpreter. No Qt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.audio import MAX_SECONDS, RATE
from engine.errors import UserError
from engine.fileio import atomic_write_text, parse_json

ANALYSIS = 3
"""Version of :func:`analyse`'s output (a cached analysis of another version is made again)."""
MIN_ONSET = 2.0
"""dB: the least rise (mean over mel bands, one frame to the next) of a sound's strongest
onsets for it to have a beat at all (:func:`_pulse`)."""
HOP = 512
"""Onset envelope hop at :data:`engine.audio.RATE`: 10.7 ms, a quarter of a frame at 24 fps."""
MAX_TIMES = 50 * 3600 * 12
"""Beats or onsets an analysis may hold: 50 a second for the longest sound."""
ACCENT_GAP = 3
"""Motion accents are at least this many frames apart (a peak within it is the same accent)."""
STEADY = 0.3
"""The least :attr:`Beats.pulse` of a sound with a beat to follow."""
NEAR = 1
"""An accent within this many frames of a beat is on it (the measure of docs/RESULTS.md)."""
HOLD_COST = 0.04
"""What :func:`fit` pays for each frame shown twice (holds asked for), in accents on a beat."""
OFF_BEAT = 0.25
"""What :func:`fit` pays for an accent shown off the beat (more than a frame from one)."""
SKIP_COST = 0.08
"""What :func:`fit` pays for each frame skipped (a faster frame), in accents on a beat."""


@dataclass(frozen=True)
class Beats:
    """A sound's beats and onsets (seconds from the sound's start), its tempo (beats per minute)
    and how clearly it has a beat: ``pulse``, the onset envelope's autocorrelation at its
    strongest lag between 40 and 240 BPM, normalised (0.9 or more for a click track or a drum
    loop, under 0.1 for speech: the tracker puts beats on anything, even where there is none)."""

    beats: np.ndarray
    onsets: np.ndarray
    tempo: float
    pulse: float

    @property
    def steady(self) -> bool:
        """Whether the sound has a beat to follow (the studio says so where it has not)."""
        return len(self.beats) >= 4 and self.pulse >= STEADY

    def beat_frames(self, offset: float, fps: float, count: int | None = None) -> np.ndarray:
        """The timeline frames the beats fall on, the soundtrack starting ``offset`` seconds
        after frame 0 (:func:`on_frames`)."""
        return on_frames(self.beats, offset, fps, count)

    def onset_frames(self, offset: float, fps: float) -> np.ndarray:
        """The timeline frames the onsets fall on (:func:`on_frames`)."""
        return on_frames(self.onsets, offset, fps)

    def to_json(self) -> dict:
        return {"version": ANALYSIS, "beats": [round(float(t), 5) for t in self.beats],
                "onsets": [round(float(t), 5) for t in self.onsets], "tempo": self.tempo,
                "pulse": self.pulse}  # fmt: skip

    @classmethod
    def from_json(cls, doc: Any) -> Beats:
        """The analysis :meth:`to_json` wrote; anything else — another shape, a time that is
        not a finite number from 0 to the longest sound, times out of order, an absurd tempo —
        is a ValueError (a cache is derived data: on any doubt it is made again)."""
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        times = {}
        for key in ("beats", "onsets"):
            values = doc.get(key)
            if not isinstance(values, list) or len(values) > MAX_TIMES or not all(
                    type(v) in (int, float) for v in values):  # fmt: skip
                raise ValueError(f"{key}: not a list of numbers")
            t = np.asarray(values, np.float64)
            if not (np.all(np.isfinite(t)) and np.all(t >= 0) and np.all(t <= MAX_SECONDS)
                    and np.all(np.diff(t) >= 0)):  # fmt: skip
                raise ValueError(f"{key}: times out of range or order")
            times[key] = t
        tempo, pulse = doc.get("tempo"), doc.get("pulse")
        if type(tempo) not in (int, float) or not 0 <= tempo <= 1000:
            raise ValueError("tempo: not a number of beats per minute")
        if type(pulse) not in (int, float) or not -1 <= pulse <= 1:
            raise ValueError("pulse: not a number from -1 to 1")
        return cls(times["beats"], times["onsets"], float(tempo), float(pulse))


def on_frames(times: np.ndarray, offset: float, fps: float, count: int | None = None) -> np.ndarray:
    """Sound times (s) as timeline frames, the sound starting ``offset`` seconds after frame 0:
    each on the frame whose time span holds it (frame f shows from f / fps), sorted, unique,
    within 0 … ``count`` − 1 where given."""
    f = np.unique(np.floor((np.asarray(times) + offset) * fps + 1e-6).astype(np.int64))
    f = f[f >= 0]
    return f if count is None else f[f < count]


N_FFT = 2048
"""The onset envelope's analysis window (librosa's default): 43 ms at RATE."""


class OnsetEnvelope:
    """librosa's onset strength (the mean over mel bands of each band's rise in dB from one
    frame to the next, ``librosa.onset.onset_strength`` with its centred frames), made from a
    sound fed in blocks of any length: a whole soundtrack is never held, only a block of it and
    the envelope (one value per 10.7 ms: 1.3 MB an hour). Levels are floored 80 dB below a
    full-scale tone's (:meth:`_floor`), where librosa floors 80 dB below the whole sound's
    loudest frame — which a sound fed in blocks does not know yet."""

    def __init__(self, rate: int = RATE, hop: int = HOP, n_fft: int = N_FFT) -> None:
        self.rate, self.hop, self.n_fft = rate, hop, n_fft
        self._buf = np.zeros(n_fft // 2, np.float32)  # the centring: n_fft / 2 of silence
        self._last: np.ndarray | None = None  # the previous frame's dB spectrum
        self._parts: list[np.ndarray] = []
        self._db_floor: float | None = None
        self.samples = 0

    def feed(self, y: np.ndarray, final: bool = False) -> None:
        """More of the sound: mono (N,) or (N, channels) float samples at ``rate``."""
        y = np.asarray(y, np.float32)
        y = y.mean(axis=1) if y.ndim == 2 else y
        self.samples += len(y)
        self._buf = np.concatenate([self._buf, y])
        if len(self._buf) >= self.n_fft + 256 * self.hop or final:
            self._frames()

    def _frames(self) -> None:
        import librosa

        n = (len(self._buf) - self.n_fft) // self.hop + 1 if len(self._buf) >= self.n_fft else 0
        if n <= 0:
            return
        chunk = self._buf[: (n - 1) * self.hop + self.n_fft]
        mel = librosa.feature.melspectrogram(y=chunk, sr=self.rate, n_fft=self.n_fft,
                                             hop_length=self.hop, center=False,
                                             fmax=0.5 * self.rate)  # fmt: skip
        db = np.maximum(librosa.power_to_db(mel, top_db=None), self._floor())
        if self._last is not None:
            db = np.concatenate([self._last[:, None], db], axis=1)
        if db.shape[1] > 1:
            self._parts.append(np.maximum(0.0, db[:, 1:] - db[:, :-1]).mean(axis=0))
        self._last = db[:, -1]
        self._buf = self._buf[n * self.hop :]

    def _floor(self) -> float:
        """The quietest level counted, in dB: 80 below a full-scale tone's (librosa clips 80
        below the whole sound's loudest; a sound fed in blocks has no whole)."""
        if self._db_floor is None:
            import librosa

            t = np.arange(self.n_fft * 4) / self.rate
            tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
            mel = librosa.feature.melspectrogram(y=tone, sr=self.rate, n_fft=self.n_fft,
                                                 hop_length=self.hop, center=False,
                                                 fmax=0.5 * self.rate)  # fmt: skip
            self._db_floor = float(librosa.power_to_db(mel, top_db=None).max()) - 80.0
        return self._db_floor

    def envelope(self) -> np.ndarray:
        """The envelope of everything fed, one value per hop (as long as librosa's)."""
        self.feed(np.zeros(self.n_fft // 2, np.float32), final=True)  # the centring at the end
        self.samples -= self.n_fft // 2
        lag = 1 + self.n_fft // (2 * self.hop)
        env = np.concatenate([np.zeros(lag), *self._parts])
        return env[: 1 + self.samples // self.hop].astype(np.float32)


def analyse(samples: np.ndarray, rate: int = RATE) -> Beats:
    """Beats and onsets of float samples (N,) or (N, channels) at ``rate``."""
    onsets = OnsetEnvelope(rate)
    for i in range(0, len(samples), 10 * rate):
        onsets.feed(samples[i : i + 10 * rate])
    return _beats(onsets, rate)


def analyse_file(path: str | Path) -> Beats:
    """Beats and onsets of a sound file, read and analysed in blocks (engine.audio.stream): an
    hour of sound in the memory of a block and its envelope (it took 0.26 GB a minute whole)."""
    from engine.audio import stream

    onsets = OnsetEnvelope(RATE)
    for block in stream(path, channels=1):
        onsets.feed(block)
    return _beats(onsets, RATE)


def _beats(onsets: OnsetEnvelope, rate: int) -> Beats:
    import librosa

    if onsets.samples < rate // 2:
        return Beats(np.zeros(0), np.zeros(0), 0.0, 0.0)
    env = onsets.envelope()
    if not np.any(env):
        return Beats(np.zeros(0), np.zeros(0), 0.0, 0.0)
    tempo = librosa.feature.tempo(sr=rate, hop_length=HOP, tg=_mean_tempogram(env, rate))
    _, frames = librosa.beat.beat_track(onset_envelope=env, sr=rate, hop_length=HOP,
                                        bpm=float(tempo[0]), trim=False)  # fmt: skip
    # librosa's own trim also drops real beats at the ends (a click on the first sample, the
    # last bars); only beats on (next to) nothing go
    loud = env[frames] >= 0.1 * np.median(env[frames]) if len(frames) else np.zeros(0, bool)
    if loud.any():
        first, last = np.flatnonzero(loud)[[0, -1]]
        frames = frames[first : last + 1]
    onsets_at = librosa.onset.onset_detect(onset_envelope=env, sr=rate, hop_length=HOP)
    frames = _onsets_at_the_ends(np.asarray(frames), np.asarray(onsets_at))
    pulse = _pulse(env, rate)
    seconds = librosa.frames_to_time(frames, sr=rate, hop_length=HOP)
    return Beats(np.asarray(seconds, np.float64),
                 np.asarray(librosa.frames_to_time(onsets_at, sr=rate, hop_length=HOP),
                            np.float64),
                 float(tempo[0]), pulse)  # fmt: skip


def _mean_tempogram(env: np.ndarray, rate: int, chunk: int = 2048) -> np.ndarray:
    """librosa's tempogram (its 8-s windows of the envelope's autocorrelation) averaged over
    the sound, as ``librosa.feature.tempo`` averages it — made a chunk of windows at a time:
    whole, it took 2 GB for ten minutes of sound."""
    import librosa

    win = int(librosa.time_to_frames(8.0, sr=rate, hop_length=HOP))
    padded = np.pad(env, win // 2, mode="linear_ramp", end_values=(0, 0))
    total = np.zeros(win)
    for a in range(0, len(env), chunk):
        part = padded[a : min(len(env), a + chunk) + win - 1]
        total += librosa.feature.tempogram(onset_envelope=part, sr=rate, hop_length=HOP,
                                           win_length=win, center=False).sum(axis=-1)
    return (total / len(env))[:, None]


def _pulse(env: np.ndarray, rate: int) -> float:
    """How clearly the envelope repeats at a tempo between 40 and 240 BPM: its autocorrelation
    there, normalised (:attr:`Beats.pulse`) — 0 where nothing in the sound rises sharply enough
    to be heard as a beat (a drone, a pad, a held chord, a pure tone: their envelope is a
    whisper of noise that repeats as well as anything, and scored 0.9 and more)."""
    import librosa

    if np.percentile(env, 99.5) < MIN_ONSET:
        return 0.0
    e = env - env.mean()
    r = librosa.autocorrelate(e)
    lags = 60 * rate / HOP / np.array([240.0, 40.0])  # 240 … 40 BPM, in envelope frames
    lo, hi = int(lags[0]), min(int(lags[1]) + 1, len(r))
    return float(r[lo:hi].max() / r[0]) if r[0] > 0 and hi > lo else 0.0


def _onsets_at_the_ends(frames: np.ndarray, onsets: np.ndarray, within: float = 0.15) -> np.ndarray:
    """The beats, with those off the grid at either end dropped and the grid carried on past
    the first and last: an onset within ``within`` of a beat period from where the next beat is
    due becomes a beat (the tracker's dynamic programming misplaces or drops the last beat or
    two of a sound, e.g. a click track's)."""
    if len(frames) < 4 or len(onsets) == 0:
        return frames
    period = float(np.median(np.diff(frames)))
    off = np.abs(np.diff(frames) - period) > within * period  # off the grid (misplaced)
    while len(frames) > 4 and off[-1]:
        frames, off = frames[:-1], off[:-1]
    while len(frames) > 4 and off[0]:
        frames, off = frames[1:], off[1:]
    for sign in (1, -1):
        while True:
            due = (frames[-1] if sign > 0 else frames[0]) + sign * period
            near = onsets[np.abs(onsets - due) <= within * period]
            if len(near) == 0:
                break
            best = near[np.argmin(np.abs(near - due))]
            frames = np.r_[frames, best] if sign > 0 else np.r_[best, frames]
    return frames


def cache_root() -> Path:
    from engine import disk_cache  # (cv2 comes with it: not when the GUI only snaps to beats)

    return disk_cache.root("beats")


def _cache_file(path: str | Path, root: Path | None) -> Path:
    from engine import disk_cache
    from engine.audio import _check_file

    _check_file(Path(path))  # a pipe would be read for ever: only a file is hashed
    return (root or cache_root()) / f"{disk_cache.file_hash(Path(path))[:32]}.json"


def cached(path: str | Path, root: Path | None = None, file: Path | None = None) -> Beats | None:
    """The cached analysis of the sound file ``path``'s bytes (kept in ``file`` where the caller
    has named it), or None (no librosa needed) — also for a cache entry that is damaged, of
    another shape or version, or not believable (:meth:`Beats.from_json`)."""
    try:
        doc = parse_json((file or _cache_file(path, root)).read_bytes())
        if isinstance(doc, dict) and doc.get("version") == ANALYSIS:
            return Beats.from_json(doc)
    except (OSError, ValueError, UserError):
        pass
    return None


def beats_of(path: str | Path, samples: np.ndarray | None = None,
             root: Path | None = None) -> Beats:  # fmt: skip
    """The analysis of the sound file ``path`` (its decoded ``samples`` where the caller has
    them), read from the cache when this file's bytes were analysed before; else made and kept
    there (an unwritable cache only costs the time)."""
    file = _cache_file(path, root)  # the file's bytes read (and hashed) once
    found = cached(path, file=file)
    if found is not None:
        return found
    found = analyse_file(path) if samples is None else analyse(samples)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(file, json.dumps(found.to_json()))
    except OSError:
        pass
    return found


# -- motion accents --------------------------------------------------------------------------------
def motion_speed(forward: np.ndarray) -> np.ndarray:
    """How much the character moves into each frame (N,): the size of T^Z's step from the
    frame before (engine.frames.motion.root_steps: shift, turn and scale in normalised units)."""
    from engine.frames.motion import root_steps

    return np.linalg.norm(root_steps(forward), axis=1)


def accents(speed: np.ndarray, gap: int = ACCENT_GAP) -> np.ndarray:
    """The frames of a motion that read as accents (N,) bool: peaks of its speed, smoothed over
    three frames, higher than any other within ``gap`` frames and above the motion's mean — a
    step's push, a bounce, the snap of a turn."""
    s = np.asarray(speed, np.float64)
    n = len(s)
    if n < 3:
        return np.zeros(n, bool)
    s = np.convolve(np.pad(s, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    padded = np.pad(s, gap, constant_values=-np.inf)
    window = np.lib.stride_tricks.sliding_window_view(padded, 2 * gap + 1)
    top = window.max(axis=1)
    first = window.argmax(axis=1) == gap  # ties: the first of a plateau
    return (s >= top) & first & (s > s.mean() + 0.1 * s.std())


def on_beat(shown: np.ndarray, beats: np.ndarray, near: int = NEAR) -> np.ndarray:
    """Which of the frames ``shown`` (accents on the timeline) lie within ``near`` frames of a
    beat in ``beats`` (sorted)."""
    shown, beats = np.asarray(shown, np.int64), np.asarray(beats, np.int64)
    if len(beats) == 0:
        return np.zeros(len(shown), bool)
    i = np.clip(np.searchsorted(beats, shown), 1, len(beats) - 1) if len(beats) > 1 else None
    if i is None:
        return np.abs(shown - beats[0]) <= near
    return np.minimum(np.abs(shown - beats[i - 1]), np.abs(shown - beats[i])) <= near


def accent_frames(steps: np.ndarray, accent: np.ndarray) -> np.ndarray:
    """The local frames where an accent is shown: ``steps`` (T,) the motion step of each frame,
    ``accent`` (≥ max step + 1,) whether a step's frame is an accent; a frame counts where its
    step is new (a held accent is one accent)."""
    steps = np.asarray(steps, np.int64)
    new = np.r_[True, steps[1:] != steps[:-1]]
    return np.flatnonzero(new & np.asarray(accent, bool)[steps])


# -- fitting a shot to beats -----------------------------------------------------------------------
def fit(accent: np.ndarray, beats: np.ndarray, duration: int, holds: bool = False,
        speed: float = 1.0) -> np.ndarray:  # fmt: skip
    """The motion step of each of ``duration`` frames (from 0, never going back) that puts the
    most accents on beats: ``accent`` (S,) whether step s shows an accent (past S − 1 the motion
    holds its last frame, as a shot played "once" does); ``beats``, the shot's local frames of
    beats. Each frame moves on 1 or 2 steps (a frame skipped speeds the motion up), or 0 where
    ``holds`` (a frame shown twice); an accent is never skipped. An accent counts 1 on a beat,
    half a frame off it and −:data:`OFF_BEAT` further off; each skip costs :data:`SKIP_COST` and
    each hold :data:`HOLD_COST`, more when ``speed`` (the steps per frame the shot had) is
    further from it. Dynamic programming
    over (frame, step): exact for these costs, O(duration × S)."""
    acc = np.asarray(accent, bool)
    n, d = len(acc), int(duration)
    if d <= 0:
        return np.zeros(0, np.int64)
    reward = np.full(d, -OFF_BEAT)
    beats = np.asarray(beats, np.int64)
    for off, w in ((0, 1.0), (-1, 0.5), (1, 0.5)):
        at = beats + off
        at = at[(at >= 0) & (at < d)]
        reward[at] = np.maximum(reward[at], w)
    moves = (0, 1, 2) if holds else (1, 2)
    cost = {m: (HOLD_COST if m == 0 else SKIP_COST if m == 2 else 0.0) * (1 + abs(m - speed))
            for m in moves}  # fmt: skip
    # a step past the end shows the last frame again: a hold the motion itself makes
    score = np.full(n, -np.inf)
    score[0] = reward[0] * acc[0]
    back = np.zeros((d, n), np.int8)
    skippable = np.r_[~acc[1:], False]  # step s + 1 may be skipped when it is no accent
    for t in range(1, d):
        best = np.full(n, -np.inf)
        move = np.zeros(n, np.int8)
        for m in moves:
            cand = np.full(n, -np.inf)
            if m == 0:
                cand[:] = score - cost[0]
            else:
                src = score[: n - m] - cost[m]
                if m == 2:
                    src = np.where(skippable[: n - 2], src, -np.inf)
                cand[m:] = src + reward[t] * acc[m:]
            better = cand > best
            best[better], move[better] = cand[better], m
        if not holds:  # at the motion's end the only way on is its own hold
            end = score[n - 1] - cost.get(0, HOLD_COST)
            if end > best[n - 1]:
                best[n - 1], move[n - 1] = end, 0
        score, back[t] = best, move
    steps = np.zeros(d, np.int64)
    s = int(np.argmax(score))
    for t in range(d - 1, -1, -1):
        steps[t] = s
        s -= int(back[t, s])
    return steps


def share_on_beat(steps: np.ndarray, accent: np.ndarray, beats: np.ndarray,
                  near: int = NEAR) -> tuple[int, int]:  # fmt: skip
    """(accents within ``near`` frames of a beat, accents shown) of a retimed shot."""
    shown = accent_frames(steps, accent)
    return int(on_beat(shown, beats, near).sum()), len(shown)


def random_retime(duration: int, n: int, seed: int, holds: bool = False) -> np.ndarray:
    """A retime with the moves :func:`fit` may make, drawn at random (the measure's baseline):
    each frame moves 1 or 2 steps (0, 1 or 2 with holds) as often as a fit's do on average."""
    rng = np.random.default_rng(seed)
    moves = rng.choice([0, 1, 2] if holds else [1, 2], size=max(duration - 1, 0),
                       p=[0.25, 0.5, 0.25] if holds else [0.75, 0.25])  # fmt: skip
    return np.minimum(np.r_[0, np.cumsum(moves)], n - 1)


def snap(frame: int, beats, within: int) -> int:
    """``frame``, or the nearest of the sorted ``beats`` when within ``within`` frames of it."""
    beats = np.asarray(beats, np.int64)
    if len(beats) == 0:
        return int(frame)
    i = np.searchsorted(beats, frame)
    near = beats[max(i - 1, 0) : i + 1]
    best = int(near[np.argmin(np.abs(near - frame))])
    return best if abs(best - frame) <= within else int(frame)


def next_beat(beats, frame: int, step: int = 1) -> int:
    """The first beat after ``frame`` (``step`` 1) or before it (−1); ``frame`` if none."""
    beats = np.asarray(beats, np.int64)
    later = beats[beats > frame] if step > 0 else beats[beats < frame]
    if len(later) == 0:
        return int(frame)
    return int(later[0] if step > 0 else later[-1])


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.beats SOUND``: the analysis of SOUND (cached) as JSON on stdout."""
    import argparse
    import os
    import sys

    p = argparse.ArgumentParser(prog="python -m engine.beats", description=main.__doc__)
    p.add_argument("sound")
    p.add_argument("--nice", type=int, default=0, help="lower this process's priority by N")
    args = p.parse_args(argv)
    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)
    try:
        found = beats_of(args.sound)
    except (UserError, OSError) as e:
        from engine.errors import one_line

        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    print(json.dumps(found.to_json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
