"""The Timeline a render reads: shots in order at one fps, frame → (shot, local frame)."""

from __future__ import annotations

from bisect import bisect_right

from engine.document.rules import ProjectError
from engine.document.shot import Shot


class Timeline:
    """Shots in order at one fps: lengths and frame → (shot, local frame) lookups."""

    def __init__(self, shots: list[Shot], fps: float) -> None:
        self.shots = list(shots)  # a snapshot: edits replace Shot objects, never change them
        self.fps = fps
        self._index: dict[str, int] | None = None
        self.starts = [0]
        for s in shots:
            self.starts.append(self.starts[-1] + s.duration)

    @property
    def frame_count(self) -> int:
        return self.starts[-1]

    @property
    def seconds(self) -> float:
        return self.frame_count / self.fps

    def locate(self, frame: int) -> tuple[int, int]:
        """(shot index, local frame) of a timeline frame."""
        if not 0 <= frame < self.frame_count:
            raise ProjectError(f"frame {frame} is outside the timeline (0…{self.frame_count - 1})")
        i = bisect_right(self.starts, frame) - 1
        return i, frame - self.starts[i]

    def shot_at(self, frame: int) -> tuple[Shot, int]:
        i, local = self.locate(frame)
        return self.shots[i], local

    def start_of(self, shot_id: str) -> int:
        if self._index is None:
            self._index = {s.id: i for i, s in enumerate(self.shots)}
        if shot_id not in self._index:
            raise ProjectError(f"no shot with id {shot_id!r} on the timeline")
        return self.starts[self._index[shot_id]]

    def visible(self, first: int, last: int) -> range:
        """Indices of the shots that show any of timeline frames ``first`` … ``last``."""
        lo = max(bisect_right(self.starts, first) - 1, 0)
        hi = min(bisect_right(self.starts, last), len(self.shots))
        return range(lo, max(lo, hi))

