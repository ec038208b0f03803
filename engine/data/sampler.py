"""Pair sampling: two distinct frames (x_i, x_j) of one clip, |i − j| <= max_gap.

Data path role: between the frame cache (or a synthetic generator) and the trainer. A batch
mixes clips: each pair's clip is drawn uniformly, so short clips are not drowned by long ones.
Samplers own a seeded numpy Generator whose state is saved in checkpoints, so a resumed run
draws exactly the pairs an uninterrupted one would.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

import numpy as np

from engine.data.clips import fit_frame
from engine.data.synthetic import MovingMNIST
from engine.errors import UserError


def draw_pair(rng: np.random.Generator, n: int, max_gap: int) -> tuple[int, int]:
    """Two distinct frame indices of an n-frame clip, at most max_gap apart."""
    i = int(rng.integers(n))
    lo, hi = max(0, i - max_gap), min(n - 1, i + max_gap)
    j = int(rng.integers(lo, hi))  # hi - lo >= 1 candidates besides i
    return i, j + (j >= i)


class _Seeded:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


class PairSampler(_Seeded):
    """Pairs from clips held as uint8 (N, S, S, 3) arrays (memory maps from the frame cache)."""

    def __init__(self, clips: Sequence[np.ndarray], max_gap: int = 4, seed: int = 0) -> None:
        super().__init__(seed)
        if max_gap < 1:
            raise UserError("max gap must be at least 1 frame")
        self.clips = [c for c in clips if len(c) >= 2]
        if not self.clips:
            raise UserError("no clip has the two frames a training pair needs")
        self.max_gap = max_gap

    def sample(
        self, batch: int, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        rng = rng or self.rng
        x1, x2 = [], []
        for _ in range(batch):
            clip = self.clips[int(rng.integers(len(self.clips)))]
            i, j = draw_pair(rng, len(clip), self.max_gap)
            x1.append(clip[i])
            x2.append(clip[j])
        return np.stack(x1), np.stack(x2)


class MovingMNISTPairs(_Seeded):
    """Pairs drawn on the fly: a fresh Moving MNIST sequence per pair, then two of its frames.

    The sequences are made at the paper's 64x64 and resized to ``size`` when the model runs at
    another resolution, so the digits keep their proportions."""

    def __init__(
        self, generator: MovingMNIST, max_gap: int = 4, seed: int = 0, size: int | None = None
    ) -> None:
        super().__init__(seed)
        self.generator = generator
        self.max_gap = max_gap
        self.size = size or generator.size

    def sample(
        self, batch: int, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        rng = rng or self.rng
        x1, x2 = [], []
        gen = self.generator
        for _ in range(batch):
            d, b, affines = gen.trajectory(rng)
            i, j = draw_pair(rng, gen.length, self.max_gap)
            x1.append(self._fit(gen.render(d, b, affines[i])))  # only the two frames needed
            x2.append(self._fit(gen.render(d, b, affines[j])))
        return np.stack(x1), np.stack(x2)

    def _fit(self, frame: np.ndarray) -> np.ndarray:
        return frame if self.size == self.generator.size else fit_frame(frame, self.size)


class Prefetcher:
    """Draws the next batches on a background thread while the model trains on the current one.

    Batches come out in exactly the order the source alone would give them, and ``state()`` is
    the source's state just after the last batch handed out: what a checkpoint must save so a
    resumed run continues with the next batch (the ones drawn ahead are simply drawn again)."""

    def __init__(self, source, batch: int, depth: int = 2) -> None:
        self.source = source
        self.batch = batch
        self._state = source.state()
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="pair-prefetch", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        while not self._stop.is_set():
            try:
                item = (self.source.sample(self.batch), self.source.state())
            except Exception as e:  # handed to the consumer, raised there
                item = (e, None)
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item[1] is None:
                return

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        batch, state = self._queue.get()
        if state is None:
            raise batch
        self._state = state
        return batch

    def state(self) -> dict:
        return self._state

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
