"""The project document (docs/PROJECT_FORMAT.md): what an animation *is*, with no Qt and no
tensors. Read top down, each module importing only those above it:

- ``rules``: the limits and the checks of project-wide settings (one set for edits and loader);
- ``shot``: Clip, Soundtrack, Shot and its references, and the **field table** of a shot;
- ``timeline``: the shots in order at one fps, as a render reads them;
- ``folder``: the ``Name.zoetrope/`` folder — paths inside it, copies in, atomic saves;
- ``project``: the validated edits (pure: no files read, no decoding);
- ``media``: the only part that decodes — clips and sounds imported, a model checked, offline;
- ``lock`` and ``merge``: one writer at a time, another writer's changes merged in;
- ``files``: ``Project`` — reading, writing and migrating project.json, save, save as.

``from engine.document import Project, Shot, …`` gives the public names.
"""

from engine.document.files import Project
from engine.document.folder import BACKUP_FILE, PROJECT_FILE, SUFFIX
from engine.document.media import Media
from engine.document.project import Edits
from engine.document.rules import (
    FPS_RANGE,
    MAX_BRUSH,
    MAX_CLIP_FRAMES,
    MAX_CLIP_SIDE,
    MAX_CLIPS,
    MAX_EXTEND,
    MAX_HOLD,
    MAX_OUTPUT_SIDE,
    MAX_PATH_KEYS,
    MAX_SHOT_FRAMES,
    MAX_SHOTS,
    MAX_SOUND_OFFSET,
    MAX_SOUND_SECONDS,
    MAX_SPEED,
    MAX_SUBJECT,
    MAX_TEXT,
    MAX_TIMELINE_FRAMES,
    PREDICTOR_FILE,
    RENDER_MODES,
    SCHEMA_VERSION,
    ProjectError,
    check_text,
)
from engine.document.shot import (
    EASES,
    EDGES,
    FIELD,
    FIELDS,
    FRONT_MODES,
    LOOP_MODES,
    POSE_MODES,
    SHADOW_MODES,
    UNFIT,
    Clip,
    Field,
    FrameRef,
    Key,
    MotionRef,
    Offline,
    Shot,
    Soundtrack,
    Stroke,
    field_value,
    fold,
    new_id,
    with_key,
    without_key,
)
from engine.document.timeline import Timeline
from engine.text import readable

__all__ = [
    "BACKUP_FILE", "EASES", "EDGES", "FIELD", "FIELDS", "FPS_RANGE", "FRONT_MODES", "LOOP_MODES",
    "MAX_BRUSH", "MAX_CLIPS", "MAX_CLIP_FRAMES", "MAX_CLIP_SIDE", "MAX_EXTEND", "MAX_HOLD",
    "MAX_OUTPUT_SIDE", "MAX_PATH_KEYS", "MAX_SHOTS", "MAX_SHOT_FRAMES", "MAX_SOUND_OFFSET",
    "MAX_SOUND_SECONDS", "MAX_SPEED", "MAX_SUBJECT", "MAX_TEXT", "MAX_TIMELINE_FRAMES",
    "POSE_MODES", "PREDICTOR_FILE", "PROJECT_FILE", "RENDER_MODES", "SCHEMA_VERSION",
    "SHADOW_MODES", "SUFFIX", "UNFIT",
    "Clip", "Edits", "Field", "FrameRef", "Key", "Media", "MotionRef", "Offline", "Project",
    "ProjectError", "Shot", "Soundtrack", "Stroke", "Timeline", "check_text", "field_value", "fold",
    "new_id", "readable", "with_key", "without_key",
]  # fmt: skip
