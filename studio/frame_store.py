"""The frames the viewer shows, as a manager of the session's (``session.frames``): the frames
rendered so far in a :class:`FrameStore` keyed like the Director's cache (engine.frames.key),
the wish lists sent to the engine client for the frames still missing, and forgetting them
when what they were made from changed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from engine.document import Timeline
from engine.frames.cache import LRU
from engine.frames.key import frame_key
from engine.frames.poster import footage_frame, footage_of
from studio.engine_client import to_qimage
from studio.jobs import Job

STALE_BYTES = 256 * 2**20
"""What is kept of the frames of the model before, while the new one renders them again."""


class FrameStore(LRU):
    """Rendered frames on the GUI side: frame key → QImage, least recently used dropped first
    beyond ``budget`` bytes (768 MiB: about 290 frames of 1280×720, 12 s at 24 fps) — the
    engine's one LRU (engine.frames.cache), measuring QImages."""

    def __init__(self, budget: int = 768 * 2**20) -> None:
        super().__init__(capacity=2**31, budget=budget, size_of=QImage.sizeInBytes)


class FrameManager(QObject):
    def __init__(self, session) -> None:
        super().__init__(session)
        self.s = session
        self.store = FrameStore()
        self.stale = FrameStore(STALE_BYTES)
        """The frames of the model before, shown until their new renders arrive."""
        session.engine.frame_ready.connect(self._on_frame)
        self._poster: tuple = (None, None)  # (key, QImage) of the last footage frame decoded
        self._failed: set = set()  # keys of footage frames that could not be decoded
        self._poster_job: Job | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoetrope-poster")
        self._closed = False

    def poster(self, index: int) -> QImage | None:
        """The playhead's frame while the engine cannot render it yet (its model loading, its
        clip being analysed) when that frame is the footage itself (engine.frames.poster: a
        shot as shot, in pixels mode): decoded on a worker without the model — None until it
        arrives, and ``frame_arrived`` then says so as a render's arrival does."""
        if self._closed or not 0 <= index < self.s.timeline.frame_count:
            return None
        project, layer = self.s.project, self.s.layer
        key = self.key(index)[0]
        if self._poster[0] == key:
            return self._poster[1]
        busy = self._poster_job is not None
        if busy or key in self._failed or footage_of(project, index, layer) is None:
            return None
        job = Job(lambda _job: (key, footage_frame(project, index, layer)), name="poster")
        job.succeeded.connect(self._poster_ready)
        job.failed.connect(lambda _why: self._failed.add(key))  # (the render says why)
        job.finished.connect(lambda: setattr(self, "_poster_job", None))
        self._poster_job = job.start(self._pool)
        return None

    def close(self) -> None:
        """Stop the footage frames' worker (its thread ends after the frame it is decoding)."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _poster_ready(self, result: tuple) -> None:
        key, frame = result
        if frame is None:  # (edited meanwhile: not the footage now)
            return
        self._poster = key, to_qimage(frame)
        self.s.frame_arrived.emit(key)

    def key(self, index: int, layer: str | None = None, timeline: Timeline | None = None):
        """(key, shot, local) of a timeline frame."""
        shot, local = (timeline or self.s.timeline).shot_at(index)
        p = self.s.project
        key = frame_key(shot, local, layer or self.s.layer, p.mode_of(shot), p.frame_size)
        return key, shot, local

    def image(self, index: int, layer: str | None = None) -> QImage | None:
        """The rendered frame at ``index`` if it has arrived (or, after a model change, its
        render by the model before, until the new one arrives), else None."""
        if not 0 <= index < self.s.timeline.frame_count:
            return None
        key = self.key(index, layer)[0]
        found = self.store.get(key)
        return self.stale.get(key) if found is None else found

    def age(self) -> None:
        """Another model: the frames rendered so far stay on show (the viewer, the timeline's
        filmstrips) until each one's new render arrives — the most recently used, up to
        STALE_BYTES — and are asked for again all the same."""
        self.stale.clear()
        for key, image in self.store.newest():
            if self.stale.bytes + image.sizeInBytes() > STALE_BYTES:
                break
            self.stale.put(key, image)
        self.store.clear()

    def clear(self) -> None:
        """Forget every frame here, old ones too (another project)."""
        self.store.clear()
        self.stale.clear()
        self._poster, self._failed = (None, None), set()

    def prefetch(self, indices: list[int], layer: str | None = None, channel: str = "play"):
        """Ask the render thread for these frames (most wanted first) that are not here yet."""
        timeline, layer = self.s.timeline, layer or self.s.layer
        wishes, seen = [], set()
        for i in indices:
            if not 0 <= i < timeline.frame_count:
                continue
            key, shot, local = self.key(i, layer, timeline)
            if key not in self.store and key not in seen:
                seen.add(key)
                wishes.append((key, shot, local, layer))
        self.s.engine.wish(wishes, channel)

    def _on_frame(self, key, image: QImage, generation: int) -> None:
        if generation != self.s.engine.generation:
            return  # made before a reload or a forget, queued meanwhile: stale
        self.store.put(key, image)
        self.s.frame_arrived.emit(key)

    def forget(self) -> None:
        """Forget every frame rendered so far, here and on the render thread (what they were
        made from changed: a clip's frames, the motion predictor)."""
        self.s.engine.forget()
        self.clear()
        self.s.offline_shots.clear()
        self.s._told.clear()  # what is still wrong is told again
        self.s.offline_changed.emit()
