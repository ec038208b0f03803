"""Sound: reading a soundtrack through ffmpeg, cutting the part a film's frames cover, writing it.

Data path role: the soundtrack of a project (engine.document.Soundtrack) goes from its file in
media/ through :func:`decode` to the exporter (engine.export muxes :func:`excerpt` of it into MP4
and WebM). Every format ffmpeg reads is accepted (WAV, MP3, Ogg Vorbis/Opus, FLAC, M4A/AAC …):
the same ffmpeg binary that writes the videos (imageio-ffmpeg's) decodes it, so nothing else is
installed. No Qt.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import UserError

RATE = 48_000
"""Samples per second everything is decoded to and exported at."""
CHANNELS = 2
AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac")
SOUND_FORMATS = ("mp4", "webm")
"""Export formats that carry the soundtrack (GIF, APNG and PNG sequences cannot)."""
MAX_SECONDS = 12 * 3600
"""The longest soundtrack (12 hours); a longer one is refused, named, never cut silently."""
BLOCK_SECONDS = 10.0
"""Sound is read in blocks of this length: whatever a file's length, reading it holds one."""


class AudioError(UserError):
    """A sound file that cannot be used; the message names the file and the reason."""


def _check_file(path: Path) -> None:
    """A path that can be read as sound at all: an existing regular file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except OSError as e:
        raise AudioError(f"{path}: cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(mode):
        raise AudioError(f"{path}: is a folder, not a sound file")
    if not stat.S_ISREG(mode):
        raise AudioError(f"{path}: not a regular file (a pipe, device or socket)")


def probe(path: str | os.PathLike) -> float | None:
    """What ffmpeg reads in a sound file's header, without decoding it: its length in seconds
    (None where the header does not say), after checking the file holds a sound stream — a
    file with none, or one ffmpeg cannot read, is an AudioError saying so."""
    import imageio_ffmpeg

    path = Path(path)
    _check_file(path)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path)]
    try:
        done = subprocess.run(cmd, capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AudioError(f"{path}: cannot run ffmpeg to read it ({e})") from None
    text = done.stderr.decode(errors="replace")
    if "Audio:" not in text:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if "Invalid data found" in text or not any("Stream #" in ln for ln in lines):
            raise AudioError(f"{path}: cannot read it as sound (not a sound or video file "
                             "ffmpeg knows)")
        raise AudioError(f"{path}: holds no sound (a video with no sound track?)")
    m = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", text)
    seconds = None if m is None else int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    claim = _wav_claim(path)  # ffmpeg says what the file holds; a WAV's header, what it claims
    return claim if claim is not None and (seconds is None or claim > seconds) else seconds


def _wav_claim(path: Path) -> float | None:
    """The length a WAV file's header claims (its data chunk's size over its byte rate), or
    None for another kind of file or a header that says nothing believable."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at, rate = 12, None
    while at + 8 <= len(head):
        kind, size = head[at : at + 4], int.from_bytes(head[at + 4 : at + 8], "little")
        if kind == b"fmt " and at + 16 <= len(head):
            rate = int.from_bytes(head[at + 16 : at + 20], "little")  # bytes per second
        if kind == b"data":
            return size / rate if rate else None
        at += 8 + size + (size & 1)
    return None


def stream(path: str | os.PathLike, rate: int = RATE, channels: int = CHANNELS,
           block: float = BLOCK_SECONDS, max_seconds: float = MAX_SECONDS):  # fmt: skip
    """The sound of ``path`` as float32 blocks (≤ ``block`` seconds, channels last) in
    [-1, 1] at ``rate``, decoded by ffmpeg as they are read: memory for one block, whatever
    the file's length. A sound longer than ``max_seconds`` is an AudioError (never cut)."""
    import imageio_ffmpeg

    path = Path(path)
    _check_file(path)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
           "-i", str(path), "-vn", "-map", "0:a:0", "-f", "f32le", "-acodec", "pcm_f32le",
           "-ac", str(channels), "-ar", str(rate), "-"]  # fmt: skip
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise AudioError(f"{path}: cannot run ffmpeg to read it ({e.strerror})") from None
    frame = 4 * channels
    size = max(1, round(block * rate)) * frame
    total, limit = 0, round(max_seconds * rate)
    try:
        while True:
            data = proc.stdout.read(size)
            if not data:
                break
            data = data[: len(data) // frame * frame]
            samples = np.frombuffer(data, np.float32).reshape(-1, channels)
            total += len(samples)
            if total > limit:
                raise AudioError(f"{path}: longer than {max_seconds / 3600:g} hours, the longest "
                                 "sound Zoetrope reads")  # fmt: skip
            yield samples
        err = proc.stderr.read()
        if proc.wait() != 0:
            lines = [ln.strip() for ln in err.decode(errors="replace").splitlines() if ln]
            why = lines[-1] if lines else f"ffmpeg exited with {proc.returncode}"
            if "does not contain any stream" in why or "matches no streams" in why:
                why = "it holds no sound"
            raise AudioError(f"{path}: cannot read it as sound ({why})")
        if total == 0:
            raise AudioError(f"{path}: holds no sound")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def decode(path: str | os.PathLike, rate: int = RATE, channels: int = CHANNELS,
           max_seconds: float = MAX_SECONDS) -> np.ndarray:  # fmt: skip
    """The whole sound of ``path`` as float32 samples (N, channels) in [-1, 1] at ``rate`` (for
    short sounds: a long one is read in blocks by :func:`stream`, :func:`measure`,
    :func:`playback_file`)."""
    blocks = list(stream(path, rate, channels, max_seconds=max_seconds))
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0].copy()


@dataclass
class Measure:
    """What :func:`measure` found of a sound file: its length as decoded, the length its header
    claims (None: it does not say), and its waveform's peaks (:func:`peaks`)."""

    seconds: float
    claimed: float | None
    peaks: np.ndarray

    def note(self, path: Path) -> str | None:
        """A file that decodes much shorter than its header says (a download cut off, a WAV whose
        header claims 4 GB): read all the same, but the user is told."""
        if self.claimed is None or self.claimed - self.seconds < max(0.5, 0.05 * self.claimed):
            return None
        return (f"{path}: its header says {_duration(self.claimed)}, but only "
                f"{_duration(self.seconds)} of sound could be read: the file is cut off or "
                "damaged (the part that reads is used)")


def measure(path: str | os.PathLike) -> Measure:
    """A sound file's length and waveform, read in blocks (a ten-hour file in the memory of
    one block and its peaks)."""
    path = Path(path)
    claimed = probe(path)
    count, parts, carry = 0, [], np.zeros((0, CHANNELS), np.float32)
    step = RATE // PEAKS_PER_SECOND
    for block in stream(path):
        count += len(block)
        block = np.concatenate([carry, block]) if len(carry) else block
        whole = len(block) // step * step
        if whole:
            parts.append(peaks(block[:whole]))
        carry = block[whole:]
    if len(carry):
        parts.append(peaks(carry))
    return Measure(count / RATE, claimed, np.concatenate(parts) if parts else np.zeros((0, 2)))


def playback_file(path: str | os.PathLike, folder: Path) -> tuple[np.ndarray, Measure]:
    """The sound as 16-bit stereo samples for playback — a memory map of a file in ``folder``
    (made once per sound file: engine.disk_cache's content key), so an hour of sound takes 690 MB of
    disk, not of memory — and its :class:`Measure`."""
    from engine import disk_cache

    path = Path(path)
    key = disk_cache.key("pcm", RATE, CHANNELS, disk_cache.file_hash(path))
    raw, meta = folder / f"{key}.s16", folder / f"{key}.npz"
    try:
        with np.load(meta) as kept:
            found = Measure(float(kept["seconds"]), None, kept["peaks"])
        pcm = np.memmap(raw, dtype="<i2", mode="r").reshape(-1, CHANNELS)
        if len(pcm) == round(found.seconds * RATE):
            return pcm, found
    except (OSError, ValueError, KeyError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    claimed = probe(path)
    count, parts = 0, []
    from engine.fileio import atomic_path

    with atomic_path(raw) as tmp, open(tmp, "wb") as out:
        for block in stream(path):
            count += len(block)
            out.write((np.clip(block, -1, 1) * 32767).astype("<i2").tobytes())
            parts.append(peaks(block))  # blocks are whole multiples of a peak's samples
    found = Measure(count / RATE, claimed, np.concatenate(parts))
    with atomic_path(meta) as tmp, open(tmp, "wb") as out:
        np.savez(out, seconds=found.seconds, peaks=found.peaks)
    return np.memmap(raw, dtype="<i2", mode="r").reshape(-1, CHANNELS), found


def cache_folder() -> Path:
    """Where :func:`playback_file` keeps its samples: beside the frame cache (derived data,
    deleted at any time)."""
    from engine import disk_cache

    return disk_cache.root("sound")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f} s"
    h, rest = divmod(round(seconds), 3600)
    return f"{h} h {rest // 60} min" if h else f"{rest // 60} min {rest % 60} s"


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
