"""Where the studio keeps its own files: settings, recent projects, recovery copies, the user's
copy of the demo project and training runs.

Settings live in the user config dir, everything else in the user data dir (platformdirs);
``ZOETROPE_CONFIG_DIR`` and ``ZOETROPE_DATA_DIR`` override them (tests, portable installs).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import time
from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings

from engine.assets import DEMO_PROJECT
from engine.fileio import atomic_write_text, parse_json

APP = "zoetrope-studio"
APP_NAME = "Zoetrope Studio"
"""The name users see (titles, the lock a second studio reads)."""
MAX_RECENT = 10


def config_dir() -> Path:
    env = os.environ.get("ZOETROPE_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    env = os.environ.get("ZOETROPE_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP))


def settings() -> QSettings:
    """The studio's settings file (INI) in the user config dir."""
    path = config_dir() / "studio.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def recent_projects() -> list[str]:
    """Recently opened projects, newest first, those that still exist."""
    value = settings().value("recent", [])
    items = [value] if isinstance(value, str) else list(value or [])
    return [p for p in items if Path(p, "project.json").is_file()]


def add_recent(path: str | os.PathLike) -> None:
    path = str(Path(path).resolve())
    items = [p for p in recent_projects() if p != path]
    s = settings()
    s.setValue("recent", [path, *items][:MAX_RECENT])
    s.sync()


def value(key: str, default: bool) -> bool:
    """A yes/no setting (QSettings keeps it as text in some formats)."""
    v = settings().value(key, default)
    return v if isinstance(v, bool) else str(v).lower() in ("true", "1")


def set_value(key: str, on: bool) -> None:
    s = settings()
    s.setValue(key, bool(on))
    s.sync()


FOLDER_KINDS = ("clips", "export", "project", "sound", "model", "frame")
"""The kinds of file a dialog asks for, each remembering its own last folder."""


def start_folder(kind: str, project: str | os.PathLike | None = None) -> Path:
    """Where a file dialog for ``kind`` (FOLDER_KINDS) starts: the folder last used for that
    kind, else the folder holding the open ``project``, else the user's Videos folder (clips,
    exports) or Documents, else home — never the process's own folder, nor the app's data
    folder (where the demo's copy lives, and nobody looks)."""
    import platformdirs

    last = settings().value(f"folders/{kind}", "") or (
        settings().value("export_folder", "") if kind == "export" else "")  # (its old key)
    holder = Path(project).parent if project is not None else None
    if holder is not None and (holder == data_dir() or data_dir() in holder.parents):
        holder = None
    videos, documents = platformdirs.user_videos_dir(), platformdirs.user_documents_dir()
    usual = (videos, documents) if kind in ("clips", "export") else (documents, videos)
    for folder in (last, holder, *usual):
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


def remember_folder(kind: str, path: str | os.PathLike) -> None:
    """The folder a dialog for ``kind`` was last used in: ``path``'s own if it is a folder
    (a PNG sequence, a project) — its parent for a project — else the folder holding it."""
    p = Path(path).resolve()
    folder = p.parent if kind == "project" or not p.is_dir() else p
    s = settings()
    s.setValue(f"folders/{kind}", str(folder))
    s.sync()


def clear_recent() -> None:
    s = settings()
    s.setValue("recent", [])
    s.sync()


def runs_dir() -> Path:
    """Where the studio's training runs go (checkpoints, samples, metrics)."""
    return data_dir() / "runs"


# -- recovery copies ---------------------------------------------------------------------------
def recovery_dir() -> Path:
    return data_dir() / "recovery"


def recovery_file(root: str | os.PathLike) -> Path:
    digest = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:12]
    return recovery_dir() / f"{Path(root).stem}-{digest}.json"


def write_recovery(root: str | os.PathLike, doc: dict) -> Path:
    """Keep a copy of an unsaved project document, to offer after a crash."""
    path = recovery_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"root": str(Path(root).resolve()), "saved_at": time.time(), "project": doc}
    atomic_write_text(path, json.dumps(record))
    return path


def clear_recovery(root: str | os.PathLike) -> None:
    recovery_file(root).unlink(missing_ok=True)


def pending_recoveries() -> list[dict]:
    """Recovery copies left behind by a session that did not end cleanly, newest first; a copy
    whose project folder is gone is dropped. A copy that is not a recovery record (damaged, or
    of another shape: ``"saved_at": "yesterday"``, no ``"project"``) is set aside as
    ``NAME.json.damaged`` — it killed the studio at every launch — and never offered."""
    found = []
    for path in sorted(recovery_dir().glob("*.json")) if recovery_dir().is_dir() else []:
        try:
            record = parse_json(path.read_bytes())
        except (OSError, ValueError):
            record = None
        if not _is_record(record):
            set_aside(path)
            continue
        if not Path(record["root"]).is_dir():
            path.unlink(missing_ok=True)
            continue
        record["file"] = str(path)
        found.append(record)
    return sorted(found, key=lambda r: -r["saved_at"])


def set_aside(path: str | os.PathLike) -> None:
    """A recovery copy that cannot be offered, kept as ``NAME.json.damaged`` (never deleted:
    it may be all that is left of an afternoon's work)."""
    path = Path(path)
    with contextlib.suppress(OSError):
        os.replace(path, path.with_name(path.name + ".damaged"))


def _is_record(record) -> bool:
    """What :func:`write_recovery` writes: the project's folder, when, and its document."""
    return (isinstance(record, dict) and isinstance(record.get("root"), str)
            and bool(record["root"]) and "\0" not in record["root"]
            and type(record.get("saved_at")) in (int, float)
            and math.isfinite(record["saved_at"]) and isinstance(record.get("project"), dict))


# -- the demo project --------------------------------------------------------------------------
def demo_copy(fresh: bool = False) -> Path:
    """The user's own copy of the demo project (the shipped one stays untouched), made on first
    use or when ``fresh``. When a newer app ships another demo, an untouched copy is replaced;
    one the user changed is kept beside it under a new name (Demo-2.zoetrope …)."""
    dest = data_dir() / "demo" / DEMO_PROJECT.name
    shipped = _digest(DEMO_PROJECT / "project.json")
    if dest.exists() and not fresh:
        copied = (dest / SHIPPED).read_text().strip() if (dest / SHIPPED).is_file() else None
        if copied != shipped:  # this copy is of an older demo
            if copied is not None and _digest(dest / "project.json") == copied:
                fresh = True  # untouched: replace it
            else:
                n = 2
                while (kept := dest.with_name(f"{dest.stem}-{n}{dest.suffix}")).exists():
                    n += 1
                os.replace(dest, kept)
    if fresh and dest.exists():
        shutil.rmtree(dest)
    if not (dest / "project.json").is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(DEMO_PROJECT, tmp)
        (tmp / SHIPPED).write_text(shipped + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    return dest


SHIPPED = ".shipped-demo"
"""In the user's demo copy: the digest of the shipped project.json it was copied from."""


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
