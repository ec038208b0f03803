"""Playback: play / pause / step over the timeline or its in/out range at the project's fps.

Playback is clocked by wall time (frame = start + elapsed × fps), so a late timer tick skips
ahead instead of slowing the film down; a frame that is not rendered yet when its time comes
counts as dropped (``Transport.dropped``; bench/studio.py measures it). The engine thread is
kept busy with the frames ahead of the playhead in playback order. Not a widget: the viewer's
buttons and the Playback menu drive it."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from engine.document import fold
from studio import settings as prefs
from studio.session import Session

AHEAD = 48  # frames rendered ahead of the playhead: 2 s at 24 fps
PREROLL = 12  # frames that must be ready before the clock starts (0.5 s at 24 fps) …
PREROLL_WAIT_S = 2.0  # … waiting at most this long (for the first of them: as long as it takes)
STALL = 6
"""Frames in a row not rendered when their time came: playback stops the clock and waits for
them (a clip still being analysed), as a video player buffers, rather than running on over
frames that do not exist."""
ONION_LAYER = "cutout"  # ghosts are the character alone (the engine's matte), not whole frames


class Transport(QObject):
    """Play / pause / step over the timeline or its in/out range at the project's fps."""

    state_changed = Signal(bool)

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.s = session
        self.mode = "loop"
        self.use_range = True
        self.onion = (0, 0)  # frames before, after the playhead to prefetch for onion skin
        self._timer = QTimer(self, timerType=Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self.clock = time.perf_counter
        """The wall clock playback runs by (a test drives its own: no test times the machine)."""
        self._t0 = 0.0
        self._n = 0
        self.shown = 0
        self.dropped = 0
        self.buffered = 0  # times playback stopped its clock to wait for frames
        self.late: list[int] = []  # play positions (frames since play) that were not ready
        self.sound = session.soundtrack.player
        self.drift: list[float] = []  # sound clock − frame clock (s) at each frame shown
        self.resyncs = 0  # times the sound was started again at the frame's time
        self._last = -1
        self._said_silent = False
        self.scrub_sound = prefs.value("scrub_sound", True)
        """Whether a new playhead, paused, sounds its frame's slice of the soundtrack."""
        session.playhead_changed.connect(self._scrub)
        # bound methods, never lambdas, on a longer-lived sender: Qt drops the connection when
        # the receiver goes (a lambda would outlive it and call into a deleted object)
        for signal in (session.playhead_changed, session.edited, session.model_loaded):
            signal.connect(self.prefetch)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def bounds(self) -> tuple[int, int]:
        count = self.s.timeline.frame_count
        lo, hi = 0, max(count - 1, 0)
        rng = self.s.project.play_range if self.s.project is not None else None
        if self.use_range and rng is not None:
            lo, hi = rng
        return lo, hi

    def frame_after(self, n: int, start: int | None = None) -> int | None:
        """The frame shown ``n`` frames of playback after ``start`` (None: past the end, once)."""
        lo, hi = self.bounds()
        start = self.s.playhead if start is None else start
        length = hi - lo + 1
        pos = min(max(start, lo), hi) - lo + n
        if self.mode == "once" and pos >= length:
            return None
        return lo + fold(pos, length, self.mode)  # as a shot folds its motion

    def play(self) -> None:
        if self.playing or self.s.timeline.frame_count == 0:
            return
        lo, hi = self.bounds()
        if not lo <= self.s.playhead <= hi or (self.mode == "once" and self.s.playhead == hi):
            self.s.seek(lo)
        self._start = self.s.playhead
        self._t0 = self.clock()
        self._preroll_until = self._t0 + PREROLL_WAIT_S
        self._rolling = False
        self._n = 0
        self._missing = 0
        self.shown = self.dropped = self.buffered = 0
        self.late = []
        self.drift, self.resyncs, self._last = [], 0, -1
        self._timer.start(max(1, int(500 / self.s.timeline.fps)))  # two ticks per frame
        self.prefetch()
        self.state_changed.emit(True)

    def pause(self) -> None:
        if self.playing:
            self._timer.stop()
            self.sound.stop()
            self.state_changed.emit(False)

    # -- the soundtrack: it follows the frame clock ------------------------------------------------
    def _scrub(self, frame: int) -> None:
        """Paused, a new playhead sounds a frame's worth of the soundtrack there."""
        if self.playing or not self.sound.loaded or not self.scrub_sound:
            return
        fps = self.s.timeline.fps
        if self.sound.play(frame / fps, seconds=max(1 / fps, 0.06)):
            QTimer.singleShot(300, self, self._end_scrub)  # not after this object is gone
        self._say_if_silent()

    def _end_scrub(self) -> None:
        if not self.playing:
            self.sound.stop()

    def _follow(self, frame: int, into: float) -> None:
        """The sound at ``frame`` (``into`` seconds into it): started there when it is not
        playing or more than half a frame off; silent while ping-pong plays backwards."""
        if not self.sound.loaded:
            return
        fps = self.s.timeline.fps
        backwards = frame < self._last and self.mode == "pingpong"
        self._last = frame
        if backwards:
            self.sound.stop()
            return
        want = frame / fps + into
        heard = self.sound.clock()
        if heard is not None and abs(heard - want) <= 0.5 / fps:
            self.drift.append(heard - want)
            return
        if heard is not None:
            self.resyncs += 1
        self.sound.play(want)
        self._say_if_silent()

    def _say_if_silent(self) -> None:
        """Once, in the status bar: there is no sound device, and playback is silent."""
        if self.sound.available is False and not self._said_silent:
            self._said_silent = True
            self.s.status.emit(f"Playback is silent: {self.sound.problem}")

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def step(self, delta: int) -> None:
        self.pause()
        self.s.seek(self.s.playhead + delta)

    def home(self) -> None:
        self.pause()
        self.s.seek(self.bounds()[0])

    def end(self) -> None:
        self.pause()
        self.s.seek(self.bounds()[1])

    def _ready_to_roll(self) -> bool:
        """Pre-roll: the clock starts once the first frames are rendered, like a video player
        buffering, so a cold start does not drop them."""
        now = self.clock()
        ahead = [self.frame_after(k, self._start) for k in range(PREROLL)]
        if ahead[0] is not None and self.s.frames.image(ahead[0]) is None:
            return False  # the first frame, however long it takes
        if now < self._preroll_until and any(
            f is not None and self.s.frames.image(f) is None for f in ahead
        ):
            return False
        self._rolling = True
        self._t0 = now
        self._follow(self._start, 0.0)
        return True

    def _tick(self) -> None:
        if not self._rolling and not self._ready_to_roll():
            return
        n = int((self.clock() - self._t0) * self.s.timeline.fps)
        if n == self._n:
            return
        self.dropped += n - self._n - 1  # frames whose time passed between two ticks
        self.late += range(self._n + 1, n)
        self._n = n
        frame = self.frame_after(n, self._start)
        if frame is None:
            self.pause()
            return
        self.shown += 1
        fps = self.s.timeline.fps
        self._follow(frame, max(0.0, self.clock() - self._t0 - n / fps))
        if self.s.frames.image(frame) is None:
            self.dropped += 1
            self.late.append(n)
            self._missing += 1
            if self._missing >= STALL:  # nothing to show for a while: wait for it
                self._buffer(frame)
                return
        else:
            self._missing = 0
        self.s.seek(frame)

    def _buffer(self, frame: int) -> None:
        """Stop the clock at ``frame`` until it and the frames after it are rendered (the
        pre-roll again), the sound with it."""
        self.sound.stop()
        self._rolling, self._start, self._n, self._missing = False, frame, 0, 0
        self._preroll_until = self.clock() + PREROLL_WAIT_S
        self.buffered += 1
        self.s.seek(frame)

    def prefetch(self, *_) -> None:
        if self.s.project is None or self.s.timeline.frame_count == 0:
            return
        before, after = self.onion
        ghosts = [self.s.playhead - k for k in range(1, before + 1)]
        ghosts += [self.s.playhead + k for k in range(1, after + 1)]
        self.s.frames.prefetch(ghosts, ONION_LAYER, channel="onion")
        wanted = [self.s.playhead]
        for n in range(1, AHEAD + 1):
            frame = self.frame_after(n)
            if frame is None:
                break
            wanted.append(frame)
        self.s.frames.prefetch(wanted)
