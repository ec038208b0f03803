"""Atomic file writes: a reader never sees half a file, and a failure leaves the old one intact.

A temporary file is named ``.NAME.PID-XXXXXX.tmp`` (an export's ``.part``) after the process
writing it, so what a killed process left behind can be told from what a live one is writing:
:func:`remove_stale_temporaries` removes the former."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp makes files private (0600)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success fsync it and rename it over target.

    On any exception the temporary file is removed and ``target`` is untouched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.{os.getpid()}-"
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    with contextlib.suppress(OSError):
        os.chmod(tmp_path, _FILE_MODE)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def temporary_path(target: Path, suffix: str) -> Path:
    """A name beside ``target`` for a temporary of this process (see the module's note)."""
    return target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:6]}{suffix}")


def remove_stale_temporaries(target: str | os.PathLike, suffix: str = ".tmp") -> list[Path]:
    """Remove the temporaries of ``target`` (files or folders) whose process is gone — left by a
    kill or a crash mid-write — and return them. A name without a process id (an older
    version's) counts as stale; one of a running process is left alone."""
    target = Path(os.path.abspath(target))
    if not target.parent.is_dir():
        return []
    removed = []
    for p in target.parent.glob(f".{glob.escape(target.name)}.*{suffix}"):
        pid = p.name[len(target.name) + 2 : -len(suffix)].split("-")[0]
        if pid.isdigit() and alive(int(pid)):
            continue
        _remove(p)
        removed.append(p)
    return removed


def _remove(p: Path) -> None:
    """A file, a link, or a folder with all in it."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)-[0-9A-Za-z_]+(?P<suffix>\.[a-z]+)")


def remove_stale_in(folder: str | os.PathLike, suffixes: tuple[str, ...]) -> list[Path]:
    """Remove the temporaries (``.NAME.PID-XXXXXX.SUFFIX``, files or folders) in ``folder`` whose
    process is gone: what an import, a capture or a save that was killed left there (an
    interrupted import left 468 MB in media/ for ever, and Save As carried it along)."""
    folder = Path(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        m = TEMPORARY.fullmatch(name)
        if m is None or m["suffix"] not in suffixes or alive(int(m["pid"])):
            continue
        _remove(folder / name)
        removed.append(folder / name)
    return removed


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process, or a system that cannot tell: leave it be
    return True


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` whose every failure is a ValueError: a document nested too deeply for
    Python's parser (RecursionError) is damaged input like any other."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
