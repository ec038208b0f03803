"""The engine client: the studio's only way to the engine's Director (engine.frames.director), and
the only module of the studio that holds one.

One background thread, the engine thread, owns the Director. It loads the model (torch is
imported there, so the window appears before it is loaded), renders the frames the viewer wishes
for ahead of the playhead (a few a batch, newest wishes first), and runs the requests queued
with :meth:`EngineClient.job` — fit to beats, accents, the motion predictor, a clip's extension
— between batches, each answered as a :class:`~studio.jobs.Job`. Long work that must not hold up
the viewer's frames (an export of minutes, the clips' analysis) runs as a job of its own beside
it: ``job(..., queued=False)``; the Director is safe from any thread (its caches each hold a
lock, renders take turns). The GUI thread never waits on the Director: it keeps the frames it
has been sent in the session's FrameStore (studio/frame_store.py) keyed like the Director's
cache (engine.frames.key) and asks only lookups that never wait (:meth:`character_centre`).
"""

from __future__ import annotations

import gc
import os
import threading
import traceback
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from engine.document import Project, Shot
from engine.errors import Cancelled, UserError
from studio.jobs import Job

BATCH = 8
CHANNELS = ("play", "onion", "thumbs")  # wish lists, served in this order


def to_qimage(frame) -> QImage:
    """uint8 (H, W, 3|4) → a QImage that owns its pixels (safe to hand between threads)."""
    h, w, c = frame.shape
    fmt = QImage.Format.Format_RGBA8888 if c == 4 else QImage.Format.Format_RGB888
    frame = np.ascontiguousarray(frame)
    # one copy (a 1280×720 frame is 2.6 MiB): QImage reads the array, .copy() owns the pixels
    return QImage(frame.data, w, h, w * c, fmt).copy()


class EngineClient(QObject):
    """Loads a model for a project on the engine thread, renders wished-for frames there and
    runs the requests queued for the Director."""

    loaded = Signal(dict)  # model path, image size, device, precision, trained-on text
    failed = Signal(str)  # a model that cannot be loaded, a frame that cannot be rendered
    shot_offline = Signal(str, str)  # shot id, why: it renders as a placeholder
    frame_ready = Signal(object, object, int)  # key, QImage, the generation it was made in
    busy_changed = Signal(bool)
    forgotten = Signal()  # after forget(), on the worker: the clips' analyses are to be redone

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._load: tuple[Project, str | None, str] | None = None
        self._wishes: dict[str, list[tuple[tuple, Shot, int, str]]] = {c: [] for c in CHANNELS}
        self._generation = 0
        self._stop = False
        self._forget = False
        self._requests: deque[tuple[Callable, Callable | None]] = deque()
        self._director = None
        self._cache_info: dict = {}
        self._failures: dict[tuple, tuple[str, int]] = {}  # key → (why, times) this generation
        self._given_up: set[tuple] = set()  # keys failed twice the same way: not asked again
        self._said: set[tuple[str, str]] = set()  # (shot id, why) placeholders told of
        self._printed: set[str] = set()  # errors whose traceback went to stderr
        self._thread = threading.Thread(target=self._run, name="zoetrope-engine", daemon=True)
        self._thread.start()

    # -- GUI thread --------------------------------------------------------------------------------
    def load(self, project: Project, model: str | None = None, device: str = "auto") -> None:
        """(Re)load the model for ``project`` (``model`` None: the project's, else built-in)."""
        with self._cond:
            self._load = (project, model, device)
            self._wishes = {c: [] for c in CHANNELS}
            self._generation += 1
            self._cond.notify()

    def wish(self, items: list[tuple[tuple, Shot, int, str]], channel: str = "play") -> None:
        """Replace a wish list: (key, shot, local frame, layer), most wanted first."""
        with self._cond:
            self._wishes[channel] = [w for w in items if w[0] not in self._given_up]
            self._cond.notify()

    def forget(self) -> None:
        """Forget every frame and clip analysis made so far (a clip's frames changed on disk, a
        new motion predictor): done on the worker before its next batch, and frames of the old
        ones still being made are dropped."""
        with self._cond:
            self._forget = True
            self._generation += 1
            self._cond.notify()

    @property
    def generation(self) -> int:
        """Bumped by each load and :meth:`forget`: a frame sent before is stale when it lands."""
        return self._generation

    @property
    def ready(self) -> bool:
        return self._director is not None

    def cache_info(self) -> dict:
        """The Director's cache counts as of its last batch (never waits on its lock)."""
        return dict(self._cache_info)

    @property
    def alive(self) -> bool:
        """Whether the engine thread runs (until :meth:`shutdown`)."""
        return self._thread.is_alive()

    def serves(self, project: Project | None) -> bool:
        """Whether the model loaded is ``project``'s (not still another project's)."""
        director = self._director
        return director is not None and project is not None and director.project is project

    @property
    def size(self) -> tuple[int, int] | None:
        """The frames' (width, height) as rendered: the project's, else the model's square."""
        director = self._director
        return None if director is None else director.size

    @property
    def model_path(self):
        """The model file the frames are made with (the project's, else the built-in), or None
        while none is loaded."""
        director = self._director
        return None if director is None else director.model_path

    def analysed(self, clip_id: str) -> bool:
        """Whether a clip's layers are in the Director's memory (a lookup: never waits)."""
        director = self._director
        return director is not None and director.analysed(clip_id)

    def lost_picks(self, shot) -> str | None:
        """Picks of subjects a re-analysis no longer has, in words (a lookup: never waits)."""
        director = self._director
        return None if director is None else director.lost_picks(shot)

    def transfer_note(self, shot) -> str | None:
        """What a transfer's plan said of the shot when a frame of it was last made (a lookup:
        never waits)."""
        director = self._director
        return None if director is None else director.transfer_note(shot)

    def in_front(self, clip_id: str) -> bool | None:
        """Whether the clip's set has something in front of its subjects; None while it is not
        analysed (a lookup: never waits)."""
        director = self._director
        return None if director is None else director.in_front(clip_id)

    def character_centre(self, shot_id: str, local: int) -> tuple[float, float] | None:
        """Where the last rendered frame of a shot's local frame put its character, before the
        path (a lookup: never waits for a render); None if none was rendered."""
        director = self._director
        return None if director is None else director.character_centre(shot_id, local)

    def job(self, work: Callable[[Any, Job], Any], name: str, queued: bool = True) -> Job | None:
        """A job (not started: connect to it, then ``start()``) that runs ``work(director,
        job)`` queued on the engine thread between frame batches — or, ``queued`` False, long
        work (an export of minutes, the clips' analysis) on a thread of its own with a
        :class:`Remote` for a director, whose every render is queued on the engine thread, taking
        turns with the viewer's frames. None while no model is loaded. A queued job still
        waiting when the client shuts down ends as cancelled."""
        director = self._director
        if director is None:
            return None
        given = director if queued else Remote(self, director)

        def run(job: Job) -> Any:
            job.check()
            return work(given, job)

        return Job(run, name=name, executor=self if queued else None)

    def submit(self, fn: Callable[[], None], cancelled: Callable[[], None] | None = None) -> None:
        """Run ``fn`` on the engine thread, between frame batches (the executor a queued job
        starts on). At shutdown a request not yet run gets ``cancelled()`` instead (a job's: it
        ends as cancelled)."""
        with self._cond:
            self._requests.append((fn, cancelled))
            self._cond.notify()

    def shutdown(self) -> None:
        """Stop the engine thread: the frame being made stops between steps, queued jobs end as
        cancelled."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._director is not None:
            self._director.stopping.set()  # a clip analysed for a frame stops between steps
        self._thread.join(timeout=10)

    # -- worker thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._stop or self._load or self._forget or self._requests
                           or (self._director and self._pending())):  # fmt: skip
                    self._cond.wait()
                if self._stop:
                    self._cancel_requests()
                    return
                if self._requests and not (self._load or self._forget):
                    request = self._requests.popleft()
                else:
                    request = None
                load, self._load = self._load, None
                forget, self._forget = self._forget, False
                if load is not None or forget:  # new inputs: every frame may render now
                    self._failures, self._given_up, self._said = {}, set(), set()
                    self._printed = set()
                generation = self._generation
                batch: list = []
                channel = None
                if request is None and load is None and self._director:
                    channel = self._pending()
                if channel is not None:  # (woken only to forget: nothing to render)
                    wishes = self._wishes[channel]
                    layer = wishes[0][3]
                    keep = []
                    for item in wishes:
                        (batch if len(batch) < BATCH and item[3] == layer else keep).append(item)
                    self._wishes[channel] = keep
            if request is not None:
                request[0]()  # a Job's run or a Remote's render: each says its own outcome
                continue
            try:
                if forget and self._director is not None:
                    self._director.clear()
                    self.forgotten.emit()
                if load is not None:
                    self.busy_changed.emit(True)
                    self._open(*load)
                elif batch:
                    self._render(batch, generation)
            except Cancelled:
                pass  # the window is closing
            except UserError as e:
                self.failed.emit(str(e))
            except Exception as e:  # a bug: say it in one line, keep the thread alive
                traceback.print_exc()
                self.failed.emit(f"internal error: {type(e).__name__}: {e}")
            finally:
                if load is not None:
                    self.busy_changed.emit(False)

    def _pending(self) -> str | None:
        return next((c for c in CHANNELS if self._wishes[c]), None)

    def _cancel_requests(self) -> None:
        """At shutdown: each request still waiting ends now, as cancelled (nothing rendered)."""
        while self._requests:
            fn, cancelled = self._requests.popleft()
            if cancelled is not None:
                cancelled()
                continue
            job = getattr(fn, "__self__", None)
            if isinstance(job, Job):
                job.cancel()  # its run ends at once, as cancelled
            fn()

    def _open(self, project: Project, model: str | None, device: str) -> None:
        import torch

        from engine import checkpoint
        from engine.frames.director import Director  # imports torch: here, never on the GUI thread

        # Leave a core to the GUI thread: torch's OpenMP threads keep spinning after each op,
        # and with every core theirs the window stalls (measured: 0.4 s hitches in playback on
        # 2 cores). One thread renders a 128² frame in ~6 ms, 7x what 24 fps needs.
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
        self._director = None
        self._cache_info = {}
        director = Director(project, model, device=device)
        path = director.model_path
        info = checkpoint.inspect(path)
        training = info.training
        info = {
            "path": str(path),
            "name": Path(path).name,
            "builtin": Path(path).resolve() == checkpoint.BUILTIN_MODEL.resolve(),
            "image_size": director.model_size,
            "device": director.device.type,
            "precision": director.precision,
            "steps": training.get("steps"),
            "trained_on": _trained_on(training),
            "created": training.get("created", ""),
            "train_seconds": training.get("train_seconds"),
            "hardware": training.get("hardware") or training.get("device", ""),
        }
        self._director = director
        # Everything loaded by now (Qt, torch, the model: ~200k objects) lives as long as the
        # process: frozen, a full garbage collection no longer walks it — 140 ms, every few
        # minutes on the GUI thread, dropped frames in playback and in the capture window's live
        # view; under 1 ms once frozen (measured in docs/PERFORMANCE.md). Refcounting still
        # frees what is dropped (an old model's tensors); only cycles made before stay.
        gc.freeze()
        self.loaded.emit(info)

    def _render(self, batch: list, generation: int) -> None:
        director = self._director
        if director is None:
            return
        layer = batch[0][3]
        failure = None
        try:
            frames = director.frames_of([(shot, local) for _, shot, local, _ in batch], layer)
        except Cancelled:
            raise
        except Exception as e:
            failure = e
        if failure is not None:
            if len(batch) > 1:  # which frame of the batch (out of the except: no chained
                for item in batch:  # traceback): the others still come
                    self._render([item], generation)
            else:
                self._failed(batch[0][0], failure)
            return
        if generation != self._generation:
            return  # a new model arrived meanwhile: these frames are from the old one
        self._cache_info = director.cache_info()
        for (key, *_), frame in zip(batch, frames, strict=True):
            self.frame_ready.emit(key, to_qimage(frame), generation)
        for shot_id, why in list(director.problems.items()):
            if (shot_id, why) not in self._said:
                self._said.add((shot_id, why))
                self.shot_offline.emit(shot_id, why)

    def _failed(self, key: tuple, e: Exception) -> None:
        """A frame whose render raised: said once; asked again only once more, then given up
        on until the inputs change (a shot asking for 888 PiB printed 220 tracebacks in 20 s,
        retried on every wish)."""
        user = isinstance(e, UserError)
        why = str(e) if user else f"internal error: {type(e).__name__}: {e}"
        was, times = self._failures.get(key, (why, 0))
        times = times + 1 if was == why else 1  # the same way twice
        self._failures[key] = (why, times)
        if user:
            self.failed.emit(why)  # the user's to fix: said at once (the session says it once)
        elif why not in self._printed:
            self._printed.add(why)  # a bug report needs one traceback, not one a frame
            traceback.print_exception(e)
        if times >= 2:
            with self._cond:
                self._given_up.add(key)
            if not user:
                self.failed.emit(f"{why} (the same frame failed twice: it is not rendered "
                                 "again until the project or the model changes)")  # fmt: skip


class Remote:
    """The Director as long work beside the engine thread sees it (an export, the analysis):
    every render is a request queued on the engine thread, so the viewer's frames and the
    export's batches take turns, and nothing but the engine thread renders. The one call made
    on the caller's own thread is :meth:`layers` (a clip's analysis, minutes): guarded by that
    clip's own lock in the engine (engine.frames.inputs), it lets other clips' frames render
    meanwhile."""

    def __init__(self, client: EngineClient, director) -> None:
        self._client, self._director = client, director
        self.project = director.project
        self.problems = director.problems
        """Shot id → why it renders as a placeholder (written by the engine thread)."""

    @property
    def size(self) -> tuple[int, int]:
        return self._director.size

    def _call(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` on the engine thread; its result (or exception) here."""
        from concurrent.futures import Future

        done: Future = Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except BaseException as e:
                done.set_exception(e)

        self._client.submit(run, lambda: done.set_exception(Cancelled()))
        return done.result()

    def frames(self, start: int = 0, stop: int | None = None, layer: str = "composite",
               batch_size: int = 16, progress=None, cancel=None):  # fmt: skip
        """As Director.frames, each batch rendered on the engine thread."""
        stop = self._director.check_range(start, stop)  # (reads the project alone)
        for first in range(start, stop, batch_size):
            if cancel is not None and cancel():
                raise Cancelled()
            last = min(first + batch_size, stop)
            yield from self._call(lambda f=first, n=last: list(
                self._director.frames(f, n, layer, batch_size=batch_size)))
            if progress is not None:
                progress(last - start, stop - start)

    def frame(self, index: int, layer: str = "composite"):
        return self._call(lambda: self._director.frame(index, layer))

    def has_layers(self, clip_id: str) -> bool:
        return self._director.has_layers(clip_id)

    def layers(self, clip_id: str, cancel=None, progress=None):
        return self._director.layers(clip_id, cancel=cancel, progress=progress)


def _trained_on(training: dict) -> str:
    if training.get("trained_on"):
        return str(training["trained_on"])
    data = training.get("data")
    if isinstance(data, dict):
        names = ", ".join(str(n) for n in data.get("names", [])[:3])
        more = "…" if len(data.get("names", [])) > 3 else ""
        return f"{data.get('clips', '?')} clips ({data.get('frames', '?')} frames): {names}{more}"
    return str(data or "")


class Analysis(QObject):
    """"Analysing clips…": the layers the pixels renderer needs (engine.frames.layers: clean plate,
    mattes, motion) of every clip of the project, computed by one :class:`~studio.jobs.Job`
    after the model loads and after clips are imported, so that the first frames of a shot
    need not wait for them. Cancellable; a clip left unanalysed is analysed when a frame first
    needs it (the render thread, never the GUI thread)."""

    changed = Signal(str, int, int)  # what is being analysed ("" when idle), done, total

    def __init__(self, session) -> None:
        super().__init__(session)
        self.s = session
        self.job = None
        self.models = 0  # models loaded for this project: past the first, clips are re-analysed
        session.model_loaded.connect(self._model_loaded)
        session.edited.connect(self.start)
        session.project_opened.connect(self._opened)

    def _opened(self, *_) -> None:
        self.models = 0
        self.cancel()

    def _model_loaded(self, *_) -> None:
        self.models += 1
        self.start()

    @property
    def running(self) -> bool:
        return self.job is not None

    def start(self, *_) -> None:
        client, project = self.s.engine, self.s.project
        if self.job is not None or not client.serves(project):
            return  # (no model yet, or the model of another project is still loading)
        if all(client.analysed(c) for c in project.clips):
            return  # the usual case after an edit: nothing to do, no job
        # in the order the timeline needs them from the playhead on: the frame on screen first
        shots = project.shots
        timeline = self.s.timeline
        if 0 <= self.s.playhead < timeline.frame_count:
            here = timeline.locate(self.s.playhead)[0]
            shots = [*shots[here:], *shots[:here]]
        order = [c for s in shots for c in (s.background.clip, s.character.clip,
                                            s.motion.clip)]  # fmt: skip
        order = list(dict.fromkeys([*order, *project.clips]))
        clips = [c for c in order if not client.analysed(c)]
        if not clips:
            return

        again = self.models > 1  # another model: say why every clip is analysed again
        n = len(clips)

        def work(director, job) -> tuple[int, list[str]]:
            made, problems = 0, []
            for i, clip_id in enumerate(clips):
                job.check()
                clip = project.clip(clip_id)
                if director.has_layers(clip_id) or project.clip_offline(clip_id):
                    continue  # (offline: its shots' placeholders say so)

                def step(name: str, done: int, total: int, i=i) -> None:
                    text = (f"Re-analysing {n} clip{'s' if n != 1 else ''} with the new model: "
                            f"{i + 1}/{n} ({name})…" if again else
                            f"Analysing {name} ({i + 1} of {n})…")  # fmt: skip
                    job.report(i * 1000 + done * 1000 // max(total, 1), n * 1000, text)

                step(clip.name, 0, 1)
                try:
                    director.layers(clip_id, cancel=job.is_cancelled, progress=step)
                except Cancelled:
                    raise
                except UserError as e:  # one clip that cannot be read: the others go on
                    problems.append(str(e))
                    continue
                made += 1
            return made, problems

        # beside the engine thread, not on it: the frames of clips analysed render meanwhile
        self.job = job = client.job(work, "analysis", queued=False)
        job.progress.connect(self._progress)
        job.failed.connect(self._failed)
        job.finished.connect(self._ended)
        job.start()

    def _progress(self, done: int, total: int, text: str) -> None:
        self.changed.emit(text, done, total)

    def _failed(self, text: str) -> None:
        self.s.tell("Cannot analyse a clip", text)

    def _ended(self) -> None:
        done = self.job is not None and self.job.outcome == "succeeded"
        again = done and self.job.result[0]
        for text in self.job.result[1] if done else ():
            self._failed(text)
        self.job = None
        self.changed.emit("", 0, 0)
        if again:
            self.start()  # clips imported meanwhile

    def cancel(self, *_, wait: float = 0.0) -> None:
        """Stop analysing (``wait`` seconds at most for the worker to stop)."""
        job = self.job
        if job is not None:
            job.cancel()
            if wait:
                job.wait(wait)
