"""The pixels renderer: the character's own pixels, cut out by its matte at its clip's
resolution (engine.frames.layers), moved by the drive in one warp (engine.frames.compositor)
and laid on the background clip's clean plate. Sharp, at the footage's size (docs/LAYERS.md).
Pose matching lives here: it compares the characters' mattes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.document import Shot
from engine.frames.cache import LRU
from engine.frames.compositor import composite, fit_matrix, over, place
from engine.frames.drive import Drives
from engine.frames.inputs import Inputs
from engine.frames.layers import ClipLayers
from engine.geometry import homogeneous, normaliser


class PixelRenderer:
    """``size()``: the output size now; ``motion``: how a character is moved by another clip's
    motion — ``tracked`` (the clip layers' classical estimate) or ``model`` (T^Z in pixels);
    ``centres``: where each rendered frame put the character, before its path (keyed by the
    frame's (shot id, local frame))."""

    def __init__(self, inputs: Inputs, drives: Drives, size: Callable[[], tuple[int, int]],
                 motion: str, centres: LRU) -> None:  # fmt: skip
        self.inputs, self.drives, self.size, self.motion = inputs, drives, size, motion
        self.centres = centres

    def render(self, shot: Shot, local: int, layer: str) -> np.ndarray:
        """One frame of ``layer``. A character that stays where it was shot (``Shot.as_shot``:
        its own set and motion, not carried by a walk, an extension or a path) is laid on its
        clip's set as shot at the same frame (its light, its leaves): as shot is the footage.
        Carried elsewhere, the spot it left would show the plate in a set whose light moves on;
        so there, and on any other set, the set is the clean plate."""
        size = self.size()
        drive = self.drives.drive(shot, local)
        if shot.as_shot:
            plate = self.inputs.live_set(shot.background.clip, drive.k, size)
        else:
            plate = self.inputs.plate(shot.background.clip, size)
        if layer == "background":
            return plate
        matrix, ch, c = self.placement(shot, drive)
        subjects = self.subjects(shot)
        centre = (matrix @ np.append(ch.centre(c, subjects), 1.0))[:2]
        self.centres.put((shot.id, local), (float(centre[0]), float(centre[1])))
        path = drive.path_at(centre, size)
        if path is not None:  # composed into the one warp of the full-resolution cut-out
            matrix = path @ matrix
        rgba, x0, y0 = ch.cutout(c, subjects)
        placed = place(rgba, x0, y0, matrix, size)
        if not shot.as_shot:  # (as shot: the set holds its shadows and the things in front)
            if shot.shadows != "drop":
                placed = over(placed, self.shadow(shot, ch, c, matrix, size))
            front = ch.front(subjects) if shot.front == "keep" else None
            if front is not None:  # a sign the character passes behind stays in front of it
                placed = over(place(*front, matrix, size), placed)
        return composite(plate, placed, layer)

    def subjects(self, shot: Shot) -> tuple[int, ...]:
        """The character's subjects the shot shows: its pick, or a transfer's performer
        (engine.frames.transfer.main_subject) where it picks none of several."""
        if shot.character.clip == shot.motion.clip:
            return shot.subjects
        return self.drives.transfer(shot, self.size()).subjects

    @staticmethod
    def shadow(shot: Shot, ch: ClipLayers, c: int, matrix: np.ndarray, size: tuple[int, int]):
        """The character's cast shadow placed as the character is: ``soft``, black as deep as
        it darkened its set; ``keep``, its old set's shadowed pixels (its plate, darkened)."""
        dark, x0, y0 = ch.shadow(c)
        if not dark.any():
            return None
        rgba = np.zeros((*dark.shape, 4), np.uint8)
        if shot.shadows == "soft":
            rgba[..., 3] = dark
        else:
            old = ch.plate[y0 : y0 + dark.shape[0], x0 : x0 + dark.shape[1]].astype(np.float32)
            rgba[..., :3] = np.clip(old * (1 - dark[..., None] / 255.0) + 0.5, 0, 255)
            rgba[..., 3] = np.where(dark > 8, 255, dark * 32).astype(np.uint8)
        return place(rgba, x0, y0, matrix, size)

    def inverse(self, shot: Shot, local: int) -> tuple[str, int, np.ndarray]:
        """The character's clip, its frame shown at a shot's local frame and the map (3×3)
        from output pixels to that frame's pixels, where the render puts it."""
        size = self.size()
        drive = self.drives.drive(shot, local)
        matrix, ch, c = self.placement(shot, drive)
        centre = (matrix @ np.append(ch.centre(c, self.subjects(shot)), 1.0))[:2]
        path = drive.path_at(centre, size)
        if path is not None:
            matrix = path @ matrix
        return shot.character.clip, c, np.linalg.inv(homogeneous(matrix))

    def subject_at(self, shot: Shot, local: int, x: float, y: float) -> int:
        """The subject of the character's clip under output pixel (x, y) at a shot's local
        frame, where the render puts that clip's frame (whether the shot shows it or not:
        Shift+click adds one it leaves out); 0 where there is none."""
        clip, c, inverse = self.inverse(shot, local)
        px, py, _ = inverse @ (x, y, 1.0)
        return self.inputs.layers(clip).subject_at(c, px, py)

    def placement(self, shot: Shot, drive) -> tuple[np.ndarray, ClipLayers, int]:
        """Before the path: the forward map (character clip's pixels → output), the
        character's layers and the frame of them shown."""
        mo, k, size = shot.motion, drive.k, self.size()
        ch = self.inputs.layers(shot.character.clip)
        moving = self.inputs.layers(mo.clip)
        extra = np.eye(3)
        if drive.extra is not None:  # the walk's root motion, in the motion clip's pixels
            n = normaliser(*moving.size)
            extra = np.linalg.inv(n) @ drive.extra @ n
        if shot.character.clip == mo.clip:
            return fit_matrix(ch.size, size) @ extra, ch, k
        # a transfer: the motion's path over the ground, the character's own steps
        place = self.drives.place(shot, drive.local, size)
        centre = ch.centre(place.frame, self.subjects(shot))
        return place.matrix(fit_matrix(ch.size, size)[0, 0], centre), ch, place.frame

