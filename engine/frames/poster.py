"""A timeline frame that is the footage itself, made without the model: what the studio shows
before the model has loaded (torch takes about a second to import).

Data path role: beside the Director, never instead of it. A shot *as shot* (``Shot.as_shot``: a
clip's character on its own set, moving as it was shot, nothing generated) drawn by the pixels
renderer is the footage, fitted to the output size (engine.frames.pixels; at 40 dB or more,
docs/LAYERS.md). So its frame is the clip's frame: decoded here, nothing imported that needs
torch. Any other frame waits for the Director.
"""

from __future__ import annotations

import numpy as np

from engine.data.clips import FrameSeeker
from engine.document import Project
from engine.frames.compositor import fit_image


def footage_of(project: Project, frame: int, layer: str = "composite") -> tuple[str, int] | None:
    """(clip id, its frame) when timeline frame ``frame`` of ``layer`` is the footage (a shot as
    shot, in pixels mode, the composite, the project's output size set; the clip online), else
    None (the Director renders it). Reads the document only: cheap on any thread."""
    if layer != "composite" or project.frame_size is None:
        return None
    if not 0 <= frame < project.timeline.frame_count:
        return None
    shot, local = project.timeline.shot_at(frame)
    clip = shot.background.clip
    if not shot.as_shot or project.mode_of(shot) != "pixels" or project.clip_offline(clip):
        return None
    return clip, shot.motion_frame(local)


def footage_frame(project: Project, frame: int, layer: str = "composite") -> np.ndarray | None:
    """Timeline frame ``frame`` of ``layer`` when it is the footage (:func:`footage_of`): the
    clip's frame fitted to the output size; else None."""
    found = footage_of(project, frame, layer)
    if found is None:
        return None
    clip, k = found
    return fit_image(FrameSeeker(project.clip_path(clip)).frame(k), project.frame_size)
