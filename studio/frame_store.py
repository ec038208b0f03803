"""The frames the viewer shows, as a manager of the session's (``session.frames``): the frames
rendered so far in a :class:`FrameStore` keyed like the Director's cache (engine.frames.key),
the wish lists sent to the engine client for the frames still missing, and forgetting them
when what they were made from changed."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from engine.document import Timeline
from engine.frames.cache import LRU
from engine.frames.key import frame_key


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
        session.engine.frame_ready.connect(self._on_frame)

    def key(self, index: int, layer: str | None = None, timeline: Timeline | None = None):
        """(key, shot, local) of a timeline frame."""
        shot, local = (timeline or self.s.timeline).shot_at(index)
        p = self.s.project
        key = frame_key(shot, local, layer or self.s.layer, p.mode_of(shot), p.frame_size)
        return key, shot, local

    def image(self, index: int, layer: str | None = None) -> QImage | None:
        """The rendered frame at ``index`` if it has arrived, else None."""
        if not 0 <= index < self.s.timeline.frame_count:
            return None
        return self.store.get(self.key(index, layer)[0])

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
        self.store.clear()
        self.s.offline_shots.clear()
        self.s._told.clear()  # what is still wrong is told again
        self.s.offline_changed.emit()
