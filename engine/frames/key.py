"""A frame's cache key: everything that decides its pixels, from the document alone — the
Director's in-memory cache and the studio's frame store share it, and the studio computes it
on the GUI thread without a model (so it is not derived from a render's Drive, which can need
the model). A generated frame is known by every shot field whose ``frames`` role in the field
table (engine.document.shot.FIELDS) is ``time``: a new field is in the key by being declared."""

from __future__ import annotations

from engine.document.shot import FIELDS, Shot


def frame_key(
    shot: Shot, local: int, layer: str, mode: str = "model", size: tuple | None = None
) -> tuple:
    """Everything that decides the pixels of a shot's local frame in ``layer``, render ``mode``
    and output ``size`` (the Director's cache key; the studio's too): holds, loops and repeated
    shots share keys. In ``pixels`` mode the background is the clip's plate, whatever its
    frame (its set at the motion frame when the shot is ``as_shot``), and a character moving
    with its own clip is its motion frame. A generated frame (an endless walk, an extension, a
    path) or a transfer's is known by every field whose ``frames`` role is ``time`` in
    :data:`FIELDS`, a transfer's by those whose role is ``pose`` too — a new field is in the key
    by being in the table."""
    bg = (shot.background.clip, shot.background.frame if mode == "model" else None)
    if mode == "pixels" and shot.as_shot:  # the set as shot at the motion frame
        bg = (shot.background.clip, "as shot", shot.motion_frame(local))
    if layer == "background":
        return (mode, "background", bg, size)
    ch = (shot.character.clip, shot.character.frame)
    motion = (shot.motion.clip, shot.motion.start, shot.motion_frame(local))
    transfer = shot.character.clip != shot.motion.clip
    if shot.generated or transfer:  # the engine decides (a transfer's steps follow its path
        # so far): a frame is known by everything that decides it
        motion = (shot.motion.clip, shot.motion.start, shot.motion.end, shot.motion_step(local),
                  local, *(getattr(shot, f.name) for f in FIELDS if f.frames == "time"))
    if mode == "pixels" and not transfer:
        ch = (shot.character.clip, None)
    elif transfer:  # how it is posed, sized and turned
        ch = (*ch, *(getattr(shot, f.name) for f in FIELDS if f.frames == "pose"))
    if shot.subjects:  # only some of the clip's subjects
        ch = (*ch, shot.subjects)
    if shot.shadows != "drop":  # its cast shadow comes along
        ch = (*ch, shot.shadows)
    if shot.front != "keep":  # what its set had in front of it is left out
        ch = (*ch, "no front")
    if shot.driver:  # one subject's motion
        motion = (*motion, "driver", shot.driver)
    if layer == "character":
        return (mode, "character", ch, motion, size)
    return (mode, layer, ch, bg, motion, size)
