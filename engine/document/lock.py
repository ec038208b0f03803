"""Who has a project open to write it: a lock file a second writer sees, and a short mutex
around each save.

Data path role: the document's storage, with engine/document/folder.py. ``Name.zoetrope/
.zoetrope.lock`` holds who holds the project (program, process, machine, user, since when), as
LibreOffice's and Krita's lock files do: a second studio that opens it is told who has it, and
opens it read-only or takes it over. A lock whose process is gone (a crash, ``kill -9``) on
this machine is stale and taken silently. The headless tools (``engine.capture``,
``engine.render --fit-beats``) do not hold it for hours: they change the project in one short
read-change-save (engine.document.Project.save merges with what is on disk) and say who else has
it open. :func:`saving` is that short mutex: one save at a time reads, compares and writes
project.json (``fcntl.flock`` on the folder; where there is none, as on Windows, saves are only
compared).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.document.rules import ProjectError
from engine.fileio import alive, atomic_write_text, parse_json

LOCK_FILE = ".zoetrope.lock"


@dataclass(frozen=True)
class Holder:
    """Who holds a project's lock."""

    app: str
    pid: int
    host: str
    user: str
    since: float

    def __str__(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.since))
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"{self.app} (process {self.pid}{where}, {self.user}, since {when})"

    @property
    def alive(self) -> bool:
        """Whether the holder may still be writing: its process runs (another machine's
        cannot be asked: taken as alive)."""
        return self.host != socket.gethostname() or alive(self.pid)

    @property
    def mine(self) -> bool:
        return self.host == socket.gethostname() and self.pid == os.getpid()


class ProjectLocked(ProjectError):
    """The project is held by another live writer; ``holder`` says who."""

    def __init__(self, root: Path, holder: Holder) -> None:
        super().__init__(f"{root}: is open in {holder}")
        self.holder = holder


def holder(root: Path) -> Holder | None:
    """Who holds the project at ``root`` (a damaged lock file: nobody)."""
    try:
        doc = parse_json((root / LOCK_FILE).read_bytes())
        return Holder(str(doc["app"]), int(doc["pid"]), str(doc["host"]), str(doc["user"]),
                      float(doc["since"]))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def acquire(root: Path, app: str, take_over: bool = False) -> Holder:
    """Hold the project at ``root`` for this process; a live other holder raises
    :class:`ProjectLocked` unless ``take_over``. Returns this process's holder record."""
    found = holder(root)
    if found is not None and found.alive and not found.mine and not take_over:
        raise ProjectLocked(root, found)
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "?"
    me = Holder(app, os.getpid(), socket.gethostname(), user, time.time())
    with contextlib.suppress(OSError):  # a read-only folder: nothing to save there, no lock
        atomic_write_text(root / LOCK_FILE, json.dumps(asdict(me)))
    return me


def release(root: Path) -> None:
    """Let the project go, if this process still holds it (one that took it over keeps it)."""
    found = holder(root)
    if found is not None and found.mine:
        with contextlib.suppress(OSError):
            (root / LOCK_FILE).unlink()


def other_holder(root: Path) -> Holder | None:
    """A live holder of the project that is not this process, or None."""
    found = holder(root)
    return found if found is not None and found.alive and not found.mine else None


_held: dict[str, int] = {}  # folders this process holds the save mutex of: how many times
_held_lock = threading.RLock()


@contextlib.contextmanager
def saving(root: Path) -> Iterator[None]:
    """One save at a time in ``root`` — across processes, while one reads, compares and
    writes project.json (re-entrant within a process: a read-change-save holds it around its
    save)."""
    key = os.path.abspath(root)
    with _held_lock:
        if key in _held:
            _held[key] += 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        try:
            import fcntl
        except ImportError:  # no flock here: saves still compare what is on disk
            fcntl = None
        try:
            fd = os.open(root, os.O_RDONLY) if fcntl else None  # the folder: no file to leave
        except OSError:
            fd = None  # not there yet (a new project): nobody else can be saving it
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            _held[key] = 1
            yield
        finally:
            _held.pop(key, None)
            if fd is not None:
                os.close(fd)
