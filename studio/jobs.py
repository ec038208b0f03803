"""The studio's one way to run work off the GUI thread: a :class:`Job`.

A job runs a function on a worker thread (its own, or a shared executor's) and ends with exactly
one of three signals on the GUI thread — ``succeeded`` with the function's result, ``failed``
with one line for the user, ``cancelled`` — then ``finished``. Every exception ends the job with
a message: a UserError or an OSError (the disk, a file) as its own words, anything else as an
"internal error" line with the traceback on stderr. Nothing a worker raises is swallowed, so no
progress dialog waits for a job that died.

The function gets the job: it reports progress with ``job.report(done, total, text)`` (the one
progress shape of the studio) and asks ``job.is_cancelled()`` — or passes ``job.report`` and
``job.is_cancelled`` to the engine's progress and cancel callbacks — between steps. Raising the
engine's :class:`~engine.errors.Cancelled` (:meth:`Job.check` does) ends it as cancelled; work
that stops early and returns what it has (an import keeps the clips copied so far) succeeds.
Connect to the signals before :meth:`Job.start`. napari's ``thread_worker`` is the model.

The one other thread is the engine client's (studio/engine_client.py): not a job but a long-lived
thread that owns the Director, serves wish lists and runs the jobs queued on it (its
``job()``); its failures reach the user through the session's ``tell`` in the same one-line
form. Training is a child process (studio/widgets/training.py);
a job whose work would hold the interpreter's lock (librosa's beat analysis) waits on a child
process (:func:`run_child`).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.errors import Cancelled, UserError, one_line

_running: set[Job] = set()  # jobs alive until they finish, whoever holds them


class Job(QObject):
    progress = Signal(int, int, str)  # done, total, what is being done
    succeeded = Signal(object)  # the work's result
    failed = Signal(str)  # one line for the user
    cancelled = Signal()
    finished = Signal()  # after any of the three

    def __init__(self, work: Callable[[Job], Any], name: str = "work",
                 executor: Executor | None = None) -> None:  # fmt: skip
        """``executor``: where :meth:`start` runs it by default (the engine client's queue)."""
        super().__init__()
        self.work, self.name, self.executor = work, name, executor
        self.result: Any = None
        self.error: str | None = None
        self.outcome: str | None = None  # "succeeded", "failed" or "cancelled" once finished
        self._cancel = threading.Event()
        self._done = threading.Event()

    # -- GUI thread --------------------------------------------------------------------------------
    def start(self, executor: Executor | None = None) -> Job:
        """Run on ``executor`` (queued behind its other work), or on a thread of its own."""
        _running.add(self)
        self.finished.connect(self._forget)
        executor = executor or self.executor
        if executor is None:
            threading.Thread(target=self._run, name=f"zoetrope-{self.name}", daemon=True).start()
        else:
            executor.submit(self._run)
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has ended (a window closing waits for its export to stop)."""
        return self._done.wait(timeout)

    @property
    def running(self) -> bool:
        return self in _running

    def _forget(self) -> None:
        # after every slot queued for this job has run, not before: then it may go
        QTimer.singleShot(0, lambda: _running.discard(self))

    # -- worker thread -----------------------------------------------------------------------------
    def report(self, done: int, total: int, text: str = "") -> None:
        self.progress.emit(int(done), int(total), text)

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def _run(self) -> None:
        try:
            self.result = self.work(self)
            self.outcome = "succeeded"
        except Cancelled:
            self.outcome = "cancelled"
        except BaseException as e:
            self.outcome, self.error = "failed", describe_error(e)
        finally:
            self._done.set()
            if self.outcome == "succeeded":
                self.succeeded.emit(self.result)
            elif self.outcome == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(self.error or "internal error")
            self.finished.emit()


def describe_error(e: BaseException) -> str:
    """One line for the user: the message of an error they can act on, else an internal error
    (whose traceback goes to stderr for a bug report)."""
    if isinstance(e, UserError) or (isinstance(e, OSError) and e.strerror):
        return one_line(e)
    traceback.print_exception(e)
    return f"internal error: {type(e).__name__}: {e}"


def run_child(job: Job, module: str, *args: str) -> str:
    """Run ``python -m module args`` as a child process from a job's worker and return its
    standard output: for work whose imports or loops would hold this interpreter's lock (and so
    the GUI). Cancelling the job kills it; a failure raises UserError with its last line."""
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        while proc.poll() is None:
            if job.is_cancelled():
                raise Cancelled()
            time.sleep(0.05)
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        lines = [x for x in err.strip().splitlines() if x.strip()] or [f"exit {proc.returncode}"]
        raise UserError(lines[-1].removeprefix("error: "))
    return out
