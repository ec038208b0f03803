"""All of the time mapping: which motion frame a shot's local frame shows and what moves it —
timing (speed, holds, a fit to beats), loops, the endless walk, the extension past the clip,
the path — as one :class:`Drive` value per local frame, which both renderers take.

Reads engine.frames.inputs (features, graphs, accents, layers' centres, the predictor) and
engine.frames.motion (the walk, the carrier, the path's maths). Walks and extensions are kept
in the inputs' ``sources`` cache; one thread makes a walk longer while the others wait."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.document import Key, Shot
from engine.document.shot import FIELDS
from engine.frames import transfer as tr
from engine.frames.compositor import fit_matrix
from engine.frames.inputs import Inputs
from engine.frames.motion import Carrier, Walker, mirror, path_matrix, translate
from engine.frames.predictor import Motion, roots
from engine.geometry import homogeneous, normaliser, theta_to_pixels


@dataclass(frozen=True)
class Drive:
    """Local frame ``local`` of a shot: motion clip frame ``k``, the extra forward map (3×3,
    the motion clip's normalised coordinates; None = the identity) of an endless walk or an
    extension, and the shot's ``path`` (keys), which comes on top about the character's centre
    (:meth:`path_at`)."""

    k: int
    extra: np.ndarray | None = None
    path: tuple[Key, ...] = ()
    local: int = 0

    def path_at(self, centre, size: tuple[int, int]) -> np.ndarray | None:
        """The path at this frame as a forward map of the output's pixels, about the
        character's ``centre`` (output pixels) there; None without a path."""
        return path_matrix(self.path, self.local, tuple(centre), size) if self.path else None


class Walk:
    """A generated motion: ``frames`` (positions in the motion range) and ``extras`` (T, 3, 3)
    — an endless walk that grows on demand (``walker``, ``carrier``), or an extension's fixed
    frames."""

    def __init__(self, walker: Walker | None = None, carrier: Carrier | None = None,
                 frames: np.ndarray | None = None, extras: np.ndarray | None = None):
        self.walker, self.carrier = walker, carrier
        self.frames = np.zeros(0, np.int64) if frames is None else frames
        self.extras = np.zeros((0, 3, 3)) if extras is None else extras

    def grow(self, length: int) -> None:
        frames = self.walker.extend(length)
        new = frames[len(self.frames) :]
        self.extras = np.concatenate([self.extras, self.carrier.extend(new)])
        self.frames = frames

    def at(self, t: int) -> tuple[int, np.ndarray]:
        return int(self.frames[t]), self.extras[t]


class Drives:
    """The drives of one project's shots (``mode_of(shot)``: the render mode a shot is drawn in,
    which decides where a walk sees the character: the clip layers' mattes, or the model's;
    ``motion``: where a transfer that follows its motion's turns measures them — ``tracked`` in
    the motion clip's layers, or ``model``, T^Z)."""

    def __init__(self, inputs: Inputs, mode_of: Callable[[Shot], str],
                 motion: str = "tracked") -> None:  # fmt: skip
        self.inputs, self.mode_of, self.motion = inputs, mode_of, motion
        self._walk_lock = threading.Lock()
        self.notes: dict[str, str] = {}
        """What the last transfer plan made of each shot said (shot id → a line; a lookup)."""

    def drive(self, shot: Shot, local: int) -> Drive:
        """What drives the character at a shot's local frame, in this shot's render mode."""
        if not shot.generated:
            return Drive(shot.motion_frame(local), None, shot.path, local)
        mo, step = shot.motion, shot.motion_step(local)
        sign = 1 if mo.end >= mo.start else -1
        if shot.loop == "endless":
            pos, extra = self.walk(shot, step).at(step)
            return Drive(mo.start + sign * pos, extra, shot.path, local)
        if step < mo.length:
            return Drive(mo.start + sign * step, None, shot.path, local)
        pos, extra = self.extension(shot).at(step - mo.length)
        return Drive(mo.start + sign * pos, extra, shot.path, local)

    def centres(self, shot: Shot, mode: str) -> tuple[np.ndarray, float]:
        """Where the character's centre is in each frame of the shot's motion range, in play
        order (normalised), and its half width (normalised), as a render mode sees them: the
        clip layers' mattes (pixels), or the model's matte of the first frame moved by T^Z."""
        mo = shot.motion
        sign = 1 if mo.end >= mo.start else -1
        frames = list(range(mo.start, mo.end + sign, sign))
        if mode == "pixels":
            layers = self.inputs.layers(mo.clip)
            n = normaliser(*layers.size)
            centres = np.stack([(n @ np.append(layers.centre(k), 1))[:2] for k in frames])
            return centres, float(np.median(layers.boxes[frames, 3])) / layers.width
        forward = np.linalg.inv(homogeneous(self.inputs.features(mo.clip, mo.start, mo.end)[0]))
        centre, half = self.inputs.model_centre(mo)
        return (forward @ np.append(centre, 1.0))[:, :2], half

    def walk(self, shot: Shot, step: int) -> Walk:
        """The endless walk of a shot's motion, made (or made longer) to reach ``step``."""
        mode = self.mode_of(shot)
        mo, sources = shot.motion, self.inputs.sources
        key = ("walk", mode, mo.clip, mo.start, mo.end, shot.seed, shot.jumps, shot.edge,
               shot.beats, shot.offset if shot.beats else 0, shot.speed, shot.hold)
        walk = sources.get(key)
        if walk is None or step >= len(walk.frames):
            with self._walk_lock:  # one thread makes it longer; the others wait and use it
                walk = sources.get(key)
                if walk is None:
                    centres, half = self.centres(shot, mode)
                    graph = self.inputs.graph(mo.clip, mo.start, mo.end)
                    beats = accent = None
                    if shot.beats:  # on the beat: which steps of the walk are beats (as
                        # played before a fit's retime, which comes on top of the walk); the
                        # beats are bounded (document: ≤ MAX_TIMELINE_FRAMES), so is this
                        plain = dataclasses.replace(shot, timing=())
                        steps = [plain.motion_u(b - shot.offset) for b in shot.beats]
                        beats = np.zeros(max(steps) + 1, bool)
                        beats[steps] = True
                        accent = self.inputs.accents(mo.clip, mo.start, mo.end)
                    walker = Walker(graph, shot.seed, shot.jumps, beats=beats, accent=accent)
                    walk = Walk(walker, Carrier(centres, half, shot.edge))
                if step >= len(walk.frames):
                    walk.grow(max(step + 1, 2 * len(walk.frames), 4 * len(walk.walker.graph)))
                sources.put(key, walk)
        return walk

    def predictor_motion(self, shot: Shot) -> Motion:
        """A shot's motion as the predictor sees it: roots and poses from the model."""
        mo = shot.motion
        thetas, pose = self.inputs.features(mo.clip, mo.start, mo.end)
        forward = np.linalg.inv(homogeneous(thetas))
        return Motion(roots(forward, self.inputs.model_centre(mo)[0]), pose)

    def extension(self, shot: Shot) -> Walk:
        """The predicted frames after a shot's motion (engine.frames.predictor): the nearest real
        frame of each predicted pose, and the extra map that puts it at the predicted root."""
        mode, mo = self.mode_of(shot), shot.motion
        predictor, stamp = self.inputs.predictor()
        key = ("extend", mode, stamp, mo.clip, mo.start, mo.end, shot.extend, shot.take,
               shot.target)  # fmt: skip

        def make() -> Walk:
            motion = self.predictor_motion(shot)
            target = None if shot.target is None else (2 * shot.target[0] - 1,
                                                       2 * shot.target[1] - 1)  # fmt: skip
            graph = self.inputs.graph(mo.clip, mo.start, mo.end)
            ahead = predictor.predict(motion, shot.extend, shot.take, target, graph.successors)
            centres = self.centres(shot, mode)[0]
            # the character's centre moved as the predicted root moves from the clip's last
            # frame, from where that frame has it in this mode; the shown frame's centre put
            # there (only the shift: the frames bring their own turn, as in an endless walk),
            # mirrored about it where it heads against its own way
            extras = []
            for root, k, flip in zip(ahead.roots, ahead.nearest, ahead.mirrored, strict=True):
                x, y = centres[-1] + root[:2] - motion.roots[-1][:2]
                extra = translate(x - centres[k][0], y - centres[k][1])
                extras.append(mirror(x) @ extra if flip else extra)
            return Walk(frames=ahead.nearest, extras=np.stack(extras))

        return self.inputs.sources.kept(key, make)

    # -- a transfer: character A performing clip C's motion on set B ------------------------------
    def transfer(self, shot: Shot, size: tuple[int, int]) -> tr.Plan:
        """The shot's transfer plan at output ``size`` (engine.frames.transfer): where its
        character goes, how big, turned how, in which of its frames — made from the three
        clips' layers, kept in the inputs' ``sources`` cache, grown as the playhead goes on."""
        inputs, mo = self.inputs, shot.motion
        key = ("transfer", tuple(size), shot.character.clip, shot.character.frame,
               shot.background.clip, mo.clip, mo.start, mo.end, shot.subjects, shot.driver,
               *(getattr(shot, f.name) for f in FIELDS if f.frames in ("time", "pose")))

        def make() -> tr.Plan:
            a, b, c = (inputs.layers(x) for x in (shot.character.clip, shot.background.clip,
                                                   mo.clip))  # fmt: skip
            # one subject each where the shot picks none of several (a group goes nowhere)
            first = shot.character.frame
            main = tr.main_subject(a, first, first + tr.CYCLE_FRAMES - 1)
            shown = shot.subjects or ((main,) if main else ())
            driver = shot.driver or tr.main_subject(c, mo.start, mo.end)
            # (only the frames it uses: a clip may be hours long)
            walker = inputs.sources.kept(
                ("walker", shot.character.clip, first, shown),
                lambda: tr.walker(a, first, shown, tr.footing(
                    a, shown, range(first, min(len(a), first + tr.CYCLE_FRAMES))),
                    self.perspective(shot.character.clip)))  # fmt: skip
            lo, hi = sorted((mo.start, mo.end))
            poses = None
            if shot.pose == "match":
                poses = inputs.sources.kept(("poses", mo.clip, lo, hi),
                                            lambda: (tr.describe(c, range(lo, hi + 1)), lo))
            motion, level = inputs.sources.kept(
                ("ground", mo.clip, driver, lo, hi),
                lambda: tr.track(tr.footing(c, (driver,) if driver else (),
                                            range(lo, hi + 1)).ground))  # fmt: skip
            persp = self.perspective(shot.background.clip)
            fit_b = fit_matrix(b.size, size)
            n = normaliser(*c.size)
            start = mo.start

            def drive(t: int) -> tuple[int, np.ndarray | None]:
                d = self.drive(shot, t)
                return d.k, None if d.extra is None else np.linalg.inv(n) @ d.extra @ n

            def turn(k: int) -> float:
                if self.motion == "tracked":
                    return tr.turn_of(homogeneous(c.tracked_motion(start, k)))
                with torch.inference_mode():
                    theta = inputs.theta(mo, k).float().cpu().numpy()
                return tr.turn_of(theta_to_pixels(theta, *c.size))

            src = tr.Sources(motion=motion, to_output=fit_matrix(c.size, size), drive=drive,
                             walker=walker, fit=fit_matrix(a.size, size),
                             set_rows=lambda y: (y - fit_b[1, 2]) / fit_b[1, 1],
                             perspective=persp, turn=turn, size=tuple(size), poses=poses,
                             level=level)
            plan = tr.Plan(src, shot.pose, shot.size, shot.turns, subjects=shown)
            if shown != shot.subjects:
                plan.notes.append(f"the character's clip shows several subjects: subject {main}, "
                                  "the one seen most, performs (click others to add them)")
            if driver != shot.driver:
                plan.notes.append(f"the motion's clip shows several subjects: subject {driver}'s "
                                  "path drives (set another in Path from)")
            return plan

        plan = inputs.sources.kept(key, make)
        return plan

    def perspective(self, clip: str) -> tr.Perspective:
        return self.inputs.sources.kept(("perspective", clip),
                                        lambda: tr.perspective(self.inputs.layers(clip)))

    def place(self, shot: Shot, local: int, size: tuple[int, int]) -> tr.Place:
        """Where a transfer puts its character at a shot's local frame (and what the plan says
        of the shot, kept in :attr:`notes`)."""
        plan = self.transfer(shot, size)
        place = plan.at(local)
        self.notes[shot.id] = plan.note()
        return place
