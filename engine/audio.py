"""Sound: reading a soundtrack through ffmpeg, cutting the part a film's frames cover, writing it.

Data path role: the soundtrack of a project (engine.document.Soundtrack) goes from its file in
media/ through :func:`decode` to the exporter (engine.export muxes :func:`excerpt` of it into MP4
and WebM). Every format ffmpeg reads is accepted (WAV, MP3, Ogg Vorbis/Opus, FLAC, M4A/AAC …):
the same ffmpeg binary that writes the videos (imageio-ffmpeg's) decodes it, so nothing else is
installed. No Qt.
"""

from __future__ import annotations

import os
import subprocess
import wave
from pathlib import Path

import numpy as np

from engine.errors import UserError

RATE = 48_000
"""Samples per second everything is decoded to and exported at."""
CHANNELS = 2
AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac")
SOUND_FORMATS = ("mp4", "webm")
"""Export formats that carry the soundtrack (GIF, APNG and PNG sequences cannot)."""
MAX_SECONDS = 6 * 3600
"""The longest soundtrack read (6 hours: 5.5 GB of samples at 48 kHz stereo float)."""


class AudioError(UserError):
    """A sound file that cannot be used; the message names the file and the reason."""


def decode(path: str | os.PathLike, rate: int = RATE, channels: int = CHANNELS) -> np.ndarray:
    """The whole sound of ``path`` as float32 samples (N, channels) in [-1, 1] at ``rate``."""
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
           "-i", str(path), "-vn", "-t", str(MAX_SECONDS), "-f", "f32le", "-acodec", "pcm_f32le",
           "-ac", str(channels), "-ar", str(rate), "-"]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, check=False)
    except OSError as e:
        raise AudioError(f"{path}: cannot run ffmpeg to read it ({e.strerror})") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.decode(errors="replace").splitlines() if ln]
        why = lines[-1] if lines else f"ffmpeg exited with {done.returncode}"
        if "does not contain any stream" in why or "Output file #0 does not contain" in why:
            why = "it holds no sound"
        raise AudioError(f"{path}: cannot read it as sound ({why})")
    samples = np.frombuffer(done.stdout, np.float32)
    if samples.size < channels:
        raise AudioError(f"{path}: holds no sound")
    return samples[: samples.size // channels * channels].reshape(-1, channels).copy()


def excerpt(samples: np.ndarray, start: float, seconds: float, rate: int = RATE) -> np.ndarray:
    """The part of ``samples`` from ``start`` seconds, ``seconds`` long, exactly
    round(seconds × rate) samples: silence where it reaches before the sound's start (``start``
    negative) or past its end."""
    count = max(0, round(seconds * rate))
    out = np.zeros((count, samples.shape[1]), np.float32)
    first = round(start * rate)
    lo, hi = max(first, 0), min(first + count, len(samples))
    if hi > lo:
        out[lo - first : hi - first] = samples[lo:hi]
    return out


PEAKS_PER_SECOND = 200


def peaks(samples: np.ndarray, rate: int = RATE, per_second: int = PEAKS_PER_SECOND) -> np.ndarray:
    """A waveform to draw: the lowest and highest sample (of the channels' mean) in each
    1/``per_second`` s, float32 (M, 2)."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    step = max(1, rate // per_second)
    count = -(-len(mono) // step)
    padded = np.zeros(count * step, np.float32)
    padded[: len(mono)] = mono
    blocks = padded.reshape(count, step)
    return np.stack([blocks.min(axis=1), blocks.max(axis=1)], axis=1)


def write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int = RATE) -> Path:
    """16-bit PCM WAV of float samples (N, channels) in [-1, 1] (clipped)."""
    path = Path(path)
    pcm = (np.clip(samples, -1, 1) * 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def click_track(bpm: float, seconds: float, rate: int = RATE, swing: float = 0.0,
                first: float = 0.0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A metronome: a short 1 kHz click on every beat from ``first`` seconds, stereo samples
    (N, 2) and the beats' true times (s). ``swing`` delays every second beat by that share of a
    beat (0.33: a shuffle)."""
    period = 60.0 / bpm
    times = np.arange(first, seconds, period)
    times[1::2] += swing * period
    times = times[times < seconds]
    out = np.zeros(round(seconds * rate), np.float32)
    n = round(0.02 * rate)
    click = np.sin(2 * np.pi * 1000 * np.arange(n) / rate) * np.exp(-np.arange(n) / (0.004 * rate))
    for t in times:
        i = round(t * rate)
        part = out[i : i + n]
        part += 0.8 * click[: len(part)].astype(np.float32)
    return np.repeat(out[:, None], 2, axis=1), times


def drum_loop(bpm: float, seconds: float, rate: int = RATE, swing: float = 0.0,
              first: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A synthesised drum pattern (the demo's soundtrack; bench/beats.py's test track): a kick
    on beats 1 and 3 of each bar, a snare on 2 and 4, a hi-hat on every eighth note, the
    off-beat ones late by ``swing`` of an eighth (0.33: a shuffle), a bass note on each beat,
    from ``first`` seconds. Stereo samples (N, 2) and the beats' true times (s)."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    times = np.arange(first, seconds, beat)
    out = np.zeros((round(seconds * rate), 2), np.float32)

    def add(at: float, sound: np.ndarray, pan: float = 0.0) -> None:
        i = round(at * rate)
        part = out[i : i + len(sound)]
        part += sound[: len(part), None] * np.array([1 - pan, 1 + pan], np.float32) / 2

    def envelope(n: int, decay: float) -> np.ndarray:
        return np.exp(-np.arange(n) / (decay * rate)).astype(np.float32)

    n = round(0.35 * rate)
    sweep = 2 * np.pi * np.cumsum(50 + 110 * np.exp(-np.arange(n) / (0.03 * rate))) / rate
    kick = 1.6 * np.sin(sweep) * envelope(n, 0.09)
    m = round(0.2 * rate)
    snare = (0.8 * rng.standard_normal(m) + 0.6 * np.sin(2 * np.pi * 190 * np.arange(m) / rate))
    snare = (snare * envelope(m, 0.05)).astype(np.float32)
    h = round(0.05 * rate)
    hat = (np.diff(rng.standard_normal(h + 1)) * envelope(h, 0.012) * 0.35).astype(np.float32)
    notes = (55.0, 55.0, 65.41, 49.0)  # A1 A1 C2 G1, one bar each
    b = round(beat * 0.9 * rate)
    for k, t in enumerate(times):
        add(t, kick if k % 2 == 0 else snare, 0.0 if k % 2 == 0 else 0.2)
        add(t, hat, -0.4)
        add(t + beat / 2 * (1 + swing), 0.7 * hat, -0.4)
        f = notes[(k // 4) % len(notes)]
        tone = np.sin(2 * np.pi * f * np.arange(b) / rate) * envelope(b, 0.25) * 0.5
        add(t, tone.astype(np.float32), 0.1)
    return np.clip(out * 0.6, -1, 1), times
