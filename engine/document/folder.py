"""The ``Name.zoetrope/`` folder on disk: where a project is, its paths kept inside it, files
copied in (clips, sounds, models) under names that clash with nothing, and saves that never
leave a half-written project.json (the previous one kept as project.json.bak).

Data path role: the document's storage. :class:`~engine.document.Project` calls in here for
everything that touches the file system; its JSON is engine/document/files.py's.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from engine.errors import UserError
from engine.fileio import (
    TEMPORARY,
    atomic_path,
    atomic_write_bytes,
    remove_stale_in,
    remove_stale_temporaries,
    temporary_path,
)
from engine.text import readable

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


def write(root: Path, data: bytes, error: type[UserError]) -> Path:
    """project.json written atomically; the version it replaces becomes project.json.bak. A
    folder that cannot be written (read-only, a full disk) is ``error``, naming the file."""
    file = root / PROJECT_FILE
    try:
        root.mkdir(parents=True, exist_ok=True)
        tidy(root)  # what a save, an import or a capture that was killed left behind
        for name in (PROJECT_FILE, BACKUP_FILE):
            remove_stale_temporaries(root / name)
        if file.exists():
            previous = file.read_bytes()
            if previous != data:
                atomic_write_bytes(root / BACKUP_FILE, previous)
        atomic_write_bytes(file, data)
    except OSError as e:
        why = "the disk is full" if e.errno == 28 else e.strerror or str(e)
        raise error(f"{file}: cannot be saved ({why})") from None
    return file


def copy_to(root: Path, dest: Path, save, error: type[UserError]) -> None:
    """A copy of the project at ``root`` (media and models) in the new folder ``dest``, whose
    project.json ``save(folder)`` writes: built beside it under a temporary name and renamed
    into place, so a failure leaves no half-copied project (and what a killed Save As left
    beside ``dest`` is removed by the next one). Symbolic links are copied as links, never
    followed — a received project's ``media/notes.wav -> ~/.ssh/id_rsa`` or ``media/stuff -> ~``
    stays a link that the project never reads through — and pipes, sockets, devices and
    temporaries of interrupted writes are left out."""
    remove_stale_temporaries(dest)
    for old in dest.parent.glob(f".{dest.name}.tmp-*"):  # an older version's leftovers
        shutil.rmtree(old, ignore_errors=True)
    tmp = temporary_path(dest, ".tmp")
    try:
        tmp.mkdir(parents=True)
        for sub in ("media", "models"):
            if (root / sub).is_dir() and not (root / sub).is_symlink():
                shutil.copytree(root / sub, tmp / sub, symlinks=True, ignore=_not_copied)
        save(tmp)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except (OSError, shutil.Error) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise error(f"{dest}: cannot save a copy there ({_why(e)})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _not_copied(folder: str, names: list[str]) -> set[str]:
    """What Save As leaves out of a folder: anything neither a file, a folder nor a link, and
    temporaries."""
    skip = set()
    for name in names:
        try:
            mode = os.lstat(os.path.join(folder, name)).st_mode
        except OSError:
            skip.add(name)
            continue
        special = not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))
        if special or TEMPORARY.fullmatch(name) or name.endswith(".importing"):
            skip.add(name)
    return skip


def _why(e: OSError | shutil.Error) -> str:
    if isinstance(e, shutil.Error):  # (src, dst, why) per file: the first says enough
        first = e.args[0][0] if e.args and e.args[0] else None
        return f"{first[0]}: {first[2]}" if first else str(e)
    if e.errno == 28:
        return "the disk is full"
    return f"{e.filename}: {e.strerror}" if e.filename else str(e.strerror or e)


def tidy(root: Path) -> list[Path]:
    """Remove what killed imports, captures and saves left in the project's folders (their
    process gone): hidden temporaries that would otherwise stay for ever and travel with Save
    As."""
    removed = remove_stale_in(root, (".tmp",))
    for sub in ("media", "models"):
        removed += remove_stale_in(root / sub, (".tmp", ".importing"))
    return removed


def unique(path: Path) -> Path:
    """``path``, or ``stem-2.ext``, ``stem-3.ext`` … whichever does not exist yet."""
    if not path.exists():
        return path
    stem, suffix = (path.name, "") if path.is_dir() else (path.stem, path.suffix)
    n = 2
    while (candidate := path.with_name(f"{stem}-{n}{suffix}")).exists():
        n += 1
    return candidate


def copy_in(root: Path, src: Path, sub: str, error: type[UserError],
            files: list[Path] | None = None) -> str:  # fmt: skip
    """Copy the file ``src`` (or, for a folder, its ``files``) into ``root/sub`` under a name
    nothing else has, made readable where the original's bytes are not UTF-8; returns its path
    relative to ``root``. Written under a temporary name and renamed, so an interrupted copy
    leaves nothing that looks finished. A folder that cannot be written (read-only, a full
    disk) is ``error``, naming it."""
    folder = root / sub
    try:
        folder.mkdir(parents=True, exist_ok=True)
        dest = unique(folder / readable(src.name))
        if files is None:
            with atomic_path(dest) as tmp:
                shutil.copyfile(src, tmp)
            return dest.relative_to(root).as_posix()
        tmp = temporary_path(dest, ".importing")
        try:
            tmp.mkdir()
            for f in files:
                shutil.copy2(f, tmp / readable(f.name))
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    except OSError as e:
        why = "the disk is full" if e.errno == 28 else e.strerror or str(e)
        raise error(f"{folder}: cannot copy {readable(src.name)} into the project "
                    f"({why})") from None  # fmt: skip
    return dest.relative_to(root).as_posix()


def delete(path: Path) -> None:
    """Remove a file or a folder of frames that the project no longer uses (a link: the link)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
