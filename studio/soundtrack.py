"""The soundtrack as the studio sees it: its waveform and player, its beats (found by a child
process), the shots' motion accents (asked of the engine client), snapping to beats. A manager
of the session's (``session.soundtrack``; Pencil2D's Editor owns its managers the same way):
it reads what it needs on workers when the project's soundtrack changes and announces what
arrived through the session's ``sound_changed`` and ``accents_changed``."""

from __future__ import annotations

import json

from PySide6.QtCore import QObject

from engine.errors import UserError
from studio.sound import SoundPlayer

MAX_ACCENT_FRAMES = 20_000
"""The longest shot whose accents the timeline shows (longer ones: none)."""


class SoundtrackManager(QObject):
    def __init__(self, session) -> None:
        super().__init__(session)
        self.s = session
        self.peaks = None
        """The soundtrack's waveform (engine.audio.peaks), once read; None before."""
        self.problem: str | None = None
        """Why the soundtrack does not play (offline, unreadable), for the timeline to say."""
        self.beats = None
        """The soundtrack's beats (engine.beats.Beats), once found (after its waveform)."""
        self.snapping = True
        """Whether the playhead and shot edges dragged on the timeline snap to beats."""
        self.player = SoundPlayer()
        """The soundtrack's player (the viewer's transport drives it)."""
        self._accents: dict[str, tuple] = {}  # shot id → (the shot as asked, its accents)
        self._asking: dict[str, object] = {}  # shot id → the shot being asked about
        self._reads: set = set()  # the sound's, beats' and accents' jobs while they run
        self._peaks_source = None
        session.project_opened.connect(self._opened)
        session.edited.connect(self._changed)

    def _opened(self) -> None:
        self._accents.clear()
        self._asking.clear()
        self._changed()

    def close(self, wait: float = 10.0) -> None:
        """Stop playing, and the reads still running (none left running into the interpreter's
        exit: torch's threads abort the process when they are torn down mid-work)."""
        self.player.stop()
        for job in list(self._reads):
            job.cancel()
            job.wait(wait)

    def _changed(self) -> None:
        """Read the soundtrack's waveform on a worker when it changed (the timeline draws it)."""
        sound = None if self.s.project is None else self.s.project.soundtrack
        source = None if sound is None else self.s.project.root / sound.source
        if sound is not None:
            self.player.offset = sound.offset
        if source == self._peaks_source:
            return
        self._peaks_source, self.peaks, self.beats = source, None, None
        self.problem = None
        self.player.load(None)
        if sound is not None:
            why = self.s.project.sound_offline()
            if why:  # offline: the film plays and exports silent until it is relinked
                self.problem = f"Soundtrack offline: {sound.source}: {why} (File → " \
                                     "Relink Missing Media…)"
                source = None
        self.s.sound_changed.emit()
        if source is None:
            return
        from engine import audio
        from studio.jobs import Job

        def work(_job):
            pcm, found = audio.playback_file(source, audio.cache_folder())
            return source, found.peaks, pcm

        job = Job(work, name="soundtrack")
        job.succeeded.connect(self._got_sound)  # bound methods: disconnected when this goes
        job.failed.connect(self._sound_failed)
        self._read(job)

    def _got_sound(self, result) -> None:
        source, peaks, pcm = result
        if source == self._peaks_source:
            self.peaks = peaks
            self.player.load(pcm, self.s.project.soundtrack.offset)
            self.s.sound_changed.emit()
            self._find_beats(source)

    def _sound_failed(self, text: str) -> None:
        self.problem = f"The soundtrack cannot be read: {text}"
        self.s.sound_changed.emit()
        self.s.tell("The soundtrack cannot be read", text)

    def _find_beats(self, source) -> None:
        """The soundtrack's beats: read from engine.beats' cache, else found by a child process
        (``python -m engine.beats``: librosa's imports and work never hold this interpreter, so
        playback meanwhile keeps its frames) that a worker waits for."""
        from engine import beats
        from studio.jobs import Job, run_child

        def work(job):
            found = beats.cached(source)
            if found is None:
                out = run_child(job, "engine.beats", str(source), "--nice", "5")
                try:
                    found = beats.Beats.from_json(json.loads(out))
                except ValueError as e:
                    raise UserError(f"{source}: the beat analysis gave no usable answer "
                                    f"({e})") from None
            return source, found

        job = Job(work, name="beats")
        job.succeeded.connect(self._got_beats)
        job.failed.connect(self._beats_failed)
        self._read(job)

    def _got_beats(self, result) -> None:
        source, found = result
        if source == self._peaks_source:
            self.beats = found
            self.s.sound_changed.emit()

    def _beats_failed(self, text: str) -> None:
        self.s.tell("The soundtrack's beats cannot be found", text)

    def beat_frames(self):
        """The timeline frames the soundtrack's beats fall on (empty before they are found)."""
        if self.beats is None or self.s.project is None or self.s.project.soundtrack is None:
            return ()
        return self.beats.beat_frames(self.s.project.soundtrack.offset, self.s.timeline.fps)

    def onset_frames(self):
        """The timeline frames of the soundtrack's onsets (every hit, syllable, note start)."""
        if self.beats is None or self.s.project is None or self.s.project.soundtrack is None:
            return ()
        return self.beats.onset_frames(self.s.project.soundtrack.offset, self.s.timeline.fps)

    def shot_accents(self, shot_id: str):
        """The local frames where a shot shows its motion's accents (engine.beats.accents: what
        Fit to Beats puts on beats), or None until a worker has asked the Director; then
        ``accents_changed``. An answer holds while the shot equals the one it was asked for (a
        changed shot asks again); the timeline calls this on every paint."""
        import dataclasses

        shot = self.s.project.shot(shot_id)
        known = self._accents.get(shot_id)
        if known is not None and known[0] == shot:
            return known[1]
        if not self.s.engine.serves(self.s.project):
            return None
        if self._asking.get(shot_id) == shot:  # asked (a failure stays here: not asked again)
            return None
        if shot.duration > MAX_ACCENT_FRAMES:
            return ()
        snapshot = self._asking[shot_id] = dataclasses.replace(shot)
        job = self.s.engine.job(lambda d, _job: (shot_id, snapshot, d.shown_accents(snapshot)),
                              "accents")  # fmt: skip
        job.succeeded.connect(self._got_accents)  # bound: disconnected when the session goes
        self._read(job)
        return None

    def _read(self, job) -> None:
        """Start one of the session's background reads; :meth:`close` waits for it."""
        self._reads.add(job)
        job.finished.connect(lambda: self._reads.discard(job))
        job.start()

    def _got_accents(self, answer) -> None:
        shot_id, shot, frames = answer
        if self._asking.get(shot_id) is shot:
            del self._asking[shot_id]
        self._accents[shot_id] = (shot, frames)
        self.s.accents_changed.emit()

    def snap(self, frame: int, within: int) -> int:
        """``frame``, or the beat within ``within`` frames of it where snapping is on."""
        from engine.beats import snap

        return snap(frame, self.beat_frames(), within) if self.snapping else frame

    def next_beat(self, step: int) -> None:
        """Move the playhead to the next (``step`` 1) or previous (−1) beat."""
        from engine.beats import next_beat

        self.s.seek(next_beat(self.beat_frames(), self.s.playhead, step))
