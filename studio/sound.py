"""Playing the soundtrack while the viewer plays, and a frame's worth of it while scrubbing.

Output goes through miniaudio (pyminiaudio): its wheels carry the C library for Linux, macOS and
Windows, so nothing is compiled and no system package is needed (sounddevice needs PortAudio
installed on Linux; Qt's QtMultimedia is in PySide6-Addons, some 200 MB more). miniaudio plays on
a thread of its own and asks for samples; the player hands them out from the decoded soundtrack
and counts them, which is its clock.

The frame clock leads: the viewer's wall clock says which frame shows, and the sound follows —
started at the frame's time, and started again there when it is more than half a frame off (a
loop's wrap, a seek, a device that runs a little fast or slow). With no sound device (a server,
CI) or no miniaudio, playback is silent and nothing else changes. ``ZOETROPE_AUDIO=null`` plays
on miniaudio's null device (silent, with a real clock: the tests), ``off`` never opens a device.
"""

from __future__ import annotations

import os
import threading

import numpy as np

RATE = 48_000  # engine.audio.RATE (not imported: this module stays light)
BUFFER_MS = 40
"""The device's buffer: what is handed to it is heard about this much later."""


_ALSA_HANDLER = None


def quiet_alsa() -> bool:
    """Silence ALSA's own complaints on stderr (a machine without a sound card prints some 35
    lines of them when a device is looked for): its error handler set to one that says nothing,
    through ctypes, once. The studio says it itself, once, in its status bar (no sound device:
    playback is silent). False where there is no ALSA (macOS, Windows, no libasound)."""
    global _ALSA_HANDLER
    if _ALSA_HANDLER is not None:
        return True
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if name is None:
        return False
    try:
        lib = ctypes.CDLL(name)
        kind = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                ctypes.c_int, ctypes.c_char_p)  # fmt: skip
        handler = kind(lambda *_: None)
        lib.snd_lib_error_set_handler(handler)
    except (OSError, AttributeError):
        return False
    _ALSA_HANDLER = handler  # (kept: ALSA calls it for as long as the process lives)
    return True


class SoundPlayer:
    """The soundtrack's samples and one playing device at a time."""

    def __init__(self) -> None:
        self._pcm: np.ndarray | None = None  # int16 (N, 2)
        self.offset = 0.0
        self._device = None
        self._lock = threading.Lock()
        self._start = 0  # sample index (of the sound) the playing stream began at
        self._sent = 0  # samples handed to the device since
        self._limit: int | None = None  # samples to play before silence (a scrub)
        self.available: bool | None = None  # None until a device was tried
        self.problem = ""  # why there is no sound, once known

    def load(self, samples: np.ndarray | None, offset: float = 0.0) -> None:
        """The soundtrack (float32 (N, 2) at 48 kHz, or :meth:`pcm` of it; None: none) and when
        it starts on the timeline (seconds)."""
        self.stop()
        self._pcm = None if samples is None else self.pcm(samples)
        self.offset = offset

    @staticmethod
    def pcm(samples: np.ndarray) -> np.ndarray:
        """What the device plays of float32 samples: 16-bit (a worker makes it: 60 ms for a
        minute of sound, too long for the GUI thread)."""
        if samples.dtype == np.dtype("<i2"):
            return samples
        return (np.clip(samples, -1, 1) * 32767).astype("<i2")

    @property
    def loaded(self) -> bool:
        return self._pcm is not None

    @property
    def playing(self) -> bool:
        return self._device is not None

    def play(self, at: float, seconds: float | None = None) -> bool:
        """Play from timeline time ``at`` (seconds), for ``seconds`` (None: until stopped).
        Returns whether a device plays it."""
        self.stop()
        if self._pcm is None or self.available is False:
            return False
        with self._lock:
            self._start = round((at - self.offset) * RATE)
            self._sent = 0
            self._limit = None if seconds is None else max(1, round(seconds * RATE))
        device = self._open()
        if device is None:
            return False
        stream = self._stream()
        next(stream)
        try:
            device.start(stream)
        except Exception as e:
            self._fail(e)
            device.close()
            return False
        self._device = device
        return True

    def stop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.close()

    def clock(self) -> float | None:
        """The timeline time (s) of the sound handed to the device so far, or None when
        nothing plays."""
        if self._device is None:
            return None
        with self._lock:
            sent = self._sent
        heard = max(0, sent - BUFFER_MS * RATE // 1000)
        return (self._start + heard) / RATE + self.offset

    # -- the device's side -----------------------------------------------------------------------
    def _open(self):
        mode = os.environ.get("ZOETROPE_AUDIO", "")
        if mode == "off":
            self.available, self.problem = False, "sound is off (ZOETROPE_AUDIO=off)"
            return None
        try:
            import miniaudio

            quiet_alsa()
            backends = [miniaudio.Backend.NULL] if mode == "null" else None
            device = miniaudio.PlaybackDevice(
                output_format=miniaudio.SampleFormat.SIGNED16, nchannels=2, sample_rate=RATE,
                buffersize_msec=BUFFER_MS, backends=backends, app_name="Zoetrope Studio",
            )
        except Exception as e:
            self._fail(e)
            return None
        self.available = True
        return device

    def _fail(self, e: Exception) -> None:
        self.available = False
        self.problem = f"no sound device ({e})" if str(e) else "no sound device"

    def _stream(self):
        """miniaudio's generator: sent the number of frames it wants, yields their bytes."""
        frames = yield b""
        while True:
            frames = yield self._take(frames)

    def _take(self, frames: int) -> bytes:
        out = np.zeros((frames, 2), "<i2")
        with self._lock:
            pcm = self._pcm
            first = self._start + self._sent
            left = frames if self._limit is None else max(0, self._limit - self._sent)
            self._sent += frames
        if pcm is not None:
            lo, hi = max(first, 0), min(first + min(frames, left), len(pcm))
            if hi > lo:
                out[lo - first : hi - first] = pcm[lo:hi]
        return out.tobytes()
