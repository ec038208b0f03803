"""The ``Name.zoetrope/`` folder on disk: where a project is, its paths kept inside it, files
copied in (clips, sounds, models) under names that clash with nothing, and saves that never
leave a half-written project.json (the previous one kept as project.json.bak).

Data path role: the document's storage. :class:`~engine.document.Project` calls in here for
everything that touches the file system; its JSON is engine/project_json.py's.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from engine.errors import UserError
from engine.fileio import atomic_path, atomic_write_bytes, remove_stale_temporaries

PROJECT_FILE = "project.json"
BACKUP_FILE = "project.json.bak"
SUFFIX = ".zoetrope"


def named(folder: str | os.PathLike) -> Path:
    """A new project's folder: ``.zoetrope`` added to the name where it is missing."""
    root = Path(folder)
    return root if root.suffix == SUFFIX else root.with_name(root.name + SUFFIX)


def check_free(root: Path, error: type[UserError]) -> None:
    """A project may go into a folder that is new or empty, nowhere else."""
    if root.exists() and any(root.iterdir()):
        raise error(f"{root}: already exists and is not empty")


def locate(folder: str | os.PathLike, error: type[UserError]) -> Path:
    """The project folder a user named: the folder, its project.json, or its name without
    ``.zoetrope`` ("Film" for "Film.zoetrope")."""
    root = Path(folder)
    if root.name == PROJECT_FILE:
        root = root.parent
    if not root.is_dir() and root.with_name(root.name + SUFFIX).is_dir():
        root = root.with_name(root.name + SUFFIX)
    if not root.is_dir():
        raise error(f"{root}: no such project folder")
    return root


def resolve(root: Path, rel: str, what: str, error: type[UserError]) -> Path:
    """A path from the JSON, made absolute; refused unless it is relative and stays inside."""
    file = root / PROJECT_FILE
    if not isinstance(rel, str) or not rel or Path(rel).is_absolute() or "\\" in rel:
        raise error(f"{file}: {what} {rel!r}: must be a relative path")
    inside = root.resolve()
    path = (inside / rel).resolve()
    if not path.is_relative_to(inside):
        raise error(f"{file}: {what} {rel!r}: points outside the project folder")
    return path


def write(root: Path, text: str) -> Path:
    """project.json written atomically; the version it replaces becomes project.json.bak."""
    root.mkdir(parents=True, exist_ok=True)
    file, data = root / PROJECT_FILE, text.encode("utf-8")
    for name in (PROJECT_FILE, BACKUP_FILE):  # what a save that was killed left behind
        remove_stale_temporaries(root / name)
    if file.exists():
        previous = file.read_bytes()
        if previous != data:
            atomic_write_bytes(root / BACKUP_FILE, previous)
    atomic_write_bytes(file, data)
    return file


def copy_to(root: Path, dest: Path, save) -> None:
    """A copy of the project at ``root`` (media and models) in the new folder ``dest``, whose
    project.json ``save(folder)`` writes: built beside it and renamed into place, so a failure
    leaves no half-copied project."""
    tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex[:6]}")
    try:
        tmp.mkdir(parents=True)
        for sub in ("media", "models"):
            if (root / sub).is_dir():
                shutil.copytree(root / sub, tmp / sub)
        save(tmp)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def unique(path: Path) -> Path:
    """``path``, or ``stem-2.ext``, ``stem-3.ext`` … whichever does not exist yet."""
    if not path.exists():
        return path
    stem, suffix = (path.name, "") if path.is_dir() else (path.stem, path.suffix)
    n = 2
    while (candidate := path.with_name(f"{stem}-{n}{suffix}")).exists():
        n += 1
    return candidate


def copy_in(root: Path, src: Path, sub: str, files: list[Path] | None = None) -> str:
    """Copy the file ``src`` (or, for a folder, its ``files``) into ``root/sub`` under a name
    nothing else has; returns its path relative to ``root``. Written under a temporary name and
    renamed, so an interrupted copy leaves nothing that looks finished."""
    folder = root / sub
    folder.mkdir(parents=True, exist_ok=True)
    dest = unique(folder / src.name)
    if files is None:
        with atomic_path(dest) as tmp:
            shutil.copyfile(src, tmp)
        return dest.relative_to(root).as_posix()
    tmp = folder / f".{dest.name}.importing"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for f in files:
            shutil.copy2(f, tmp / f.name)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest.relative_to(root).as_posix()


def delete(path: Path) -> None:
    """Remove a file or a folder of frames that the project no longer uses."""
    shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
