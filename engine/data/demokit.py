"""The demo kit: our own procedural cast, motions and sets (no third-party art).

Data path role: the clips the built-in model is trained on, the demo project's media and the
held-out material it is measured on. Everything is drawn by this module, deterministically from a
seed, and written as ordinary video files so it enters through the same import path as a user's
clips (``python -m engine.data.demokit``).

- Characters: *puppets* — a torso, a head (round, square or pointed), two-part arms and legs that
  rotate about shoulder, elbow, hip and knee (non-affine motion, like a game sprite) and a prop
  (hat, wand, balloon, bow tie) — and *rigid* characters (ball, star, box robot, fish) that only
  move as a whole. Colours and proportions vary per character.
- Motions: walk, wave, jump, spin, bow, hop. A motion is a list of poses (root position, body
  angle, joint angles), so any motion plays on any character: that is what the evaluation's
  "animation transfer" ground truth is.
- Backgrounds: the paper's diamonds (§4.2) and painted sets (sky gradient, sun or moon, clouds,
  hills, ground, trees, houses, fences, a stage with curtains).

Splits draw from separate seed streams, so ``test`` characters and backgrounds never occur in
``train``. Drawing is 4x supersampled with Pillow and box-filtered down: smooth edges at 64².

Length: one deterministic generator of the whole kit (cast, motions, sets, clips and their
truth), whose parts share its seeds and sizes; split, how a pose is drawn and how its true
motion is computed would sit apart.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from engine.data.synthetic import make_backgrounds

SPLITS = {"train": 0, "test": 1, "demo": 2}
MOTIONS = ("walk", "wave", "jump", "spin", "bow", "hop")
HEADS = ("round", "square", "pointed")
PROPS = (None, "hat", "wand", "balloon", "bowtie")
RIGID = ("ball", "star", "robot", "fish")
SETS = ("meadow", "beach", "night", "sunset", "stage", "town")
SS = 4  # supersampling factor
FRAMES = 24
FPS = 12

# colour palettes (RGB); characters pick saturated colours, sets pick scene colours
BRIGHT = (
    (230, 57, 70), (244, 162, 97), (233, 196, 106), (42, 157, 143), (38, 70, 83),
    (131, 56, 236), (58, 134, 255), (255, 0, 110), (251, 86, 7), (255, 190, 11),
    (6, 214, 160), (17, 138, 178), (239, 71, 111), (120, 80, 40), (250, 250, 245),
    (60, 60, 70), (90, 200, 90), (200, 120, 220),
)
SKIN = ((255, 219, 172), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36),
        (250, 235, 215), (160, 220, 160), (180, 200, 255))


def _rng(seed: int, split: str, kind: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLITS[split], kind, index])


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _shade(c, f: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, v * f))) for v in c)


@dataclass(frozen=True)
class Character:
    """One member of the cast. Lengths are fractions of the frame size."""

    name: str
    kind: str  # "puppet" or one of RIGID
    body: tuple
    limb: tuple
    head: tuple
    accent: tuple
    head_shape: str = "round"
    prop: str | None = None
    torso: tuple = (0.11, 0.16)  # width, height
    arm: tuple = (0.08, 0.08)  # upper, lower
    leg: tuple = (0.09, 0.09)
    thick: float = 0.035
    head_r: float = 0.065
    size: float = 0.16  # rigid characters: radius

    @property
    def height(self) -> float:
        """Hip-to-ground distance when standing."""
        return self.leg[0] + self.leg[1] + self.thick / 2


def make_character(split: str, index: int, seed: int = 0) -> Character:
    """Character ``index`` of a split's cast: every third one is rigid, the rest puppets."""
    rng = _rng(seed, split, 1, index)
    body, limb, accent = (BRIGHT[i] for i in rng.choice(len(BRIGHT), 3, replace=False))
    if index % 3 == 2:
        kind = RIGID[(index // 3) % len(RIGID)]
        return Character(
            name=f"{split}-{kind}-{index}", kind=kind, body=body, limb=limb, head=_pick(rng, SKIN),
            accent=accent, size=float(rng.uniform(0.12, 0.17)),
        )
    s = float(rng.uniform(1.0, 1.25))
    return Character(
        name=f"{split}-puppet-{index}", kind="puppet", body=body, limb=limb,
        head=_pick(rng, SKIN), accent=accent, head_shape=_pick(rng, HEADS), prop=_pick(rng, PROPS),
        torso=(float(rng.uniform(0.09, 0.14)) * s, float(rng.uniform(0.13, 0.18)) * s),
        arm=(0.075 * s, 0.075 * s), leg=(float(rng.uniform(0.08, 0.1)) * s,) * 2,
        thick=float(rng.uniform(0.036, 0.046)) * s, head_r=float(rng.uniform(0.055, 0.075)) * s,
    )


@dataclass
class Pose:
    """Where the character is: hip (puppets) or centre (rigid) in frame fractions, the body's
    angle in degrees (clockwise on screen), and joint angles in degrees from hanging straight
    down (positive swings towards +x)."""

    x: float = 0.5
    y: float = 0.75
    angle: float = 0.0
    joints: dict = field(default_factory=dict)


JOINTS = ("l_shoulder", "l_elbow", "r_shoulder", "r_elbow", "l_hip", "l_knee", "r_hip", "r_knee")


def motion_poses(motion: str, character: Character, frames: int = FRAMES,
                 rng: np.random.Generator | None = None, length: int | None = None) -> list[Pose]:
    """The poses of ``motion`` over ``frames`` frames. ``rng`` varies start point, direction,
    speed and amplitude; the same rng state gives the same motion on any character. ``length``
    (default ``frames``) frames are made at that pace: a longer one goes on as the motion would
    (the truth a clip cut in two is continued against)."""
    rng = rng or np.random.default_rng(0)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    amp = float(rng.uniform(0.8, 1.2))
    cycles = float(rng.uniform(0.8, 1.4))
    x0 = float(rng.uniform(0.3, 0.7))
    ground = float(rng.uniform(0.86, 0.92))
    rigid = character.kind != "puppet"
    stand = ground - (character.size if rigid else character.height)
    poses = []
    for f in range(frames if length is None else length):
        t = f / max(frames - 1, 1)
        ph = 2 * math.pi * cycles * t
        j = dict.fromkeys(JOINTS, 0.0)
        j.update(l_shoulder=8, r_shoulder=-8, l_elbow=10, r_elbow=-10)
        x, y, angle = x0, stand, 0.0
        if motion == "walk":
            x = x0 + direction * 0.35 * (t - 0.5)
            swing = 28 * amp * math.sin(2 * ph)
            j.update(l_hip=swing, r_hip=-swing, l_knee=max(0, -swing) * 0.8 + 5,
                     r_knee=max(0, swing) * 0.8 + 5, l_shoulder=-swing * 0.8,
                     r_shoulder=swing * 0.8, l_elbow=15, r_elbow=15)
            y = stand - 0.012 * abs(math.sin(2 * ph))
            angle = 4 * direction if not rigid else 12 * math.sin(2 * ph)
        elif motion == "wave":
            wave = 50 * amp * math.sin(3 * ph)
            j.update(r_shoulder=-135 * direction, r_elbow=-20 * direction + wave)
            angle = 5 * math.sin(ph) if not rigid else 20 * amp * math.sin(3 * ph)
        elif motion == "jump":
            s = (cycles * t) % 1.0
            crouch = math.sin(math.pi * min(s / 0.25, 1)) if s < 0.25 else 0.0
            air = math.sin(math.pi * (s - 0.25) / 0.6) if 0.25 <= s < 0.85 else 0.0
            land = math.sin(math.pi * (s - 0.85) / 0.15) if s >= 0.85 else 0.0
            bend = max(crouch, land)
            j.update(l_hip=-50 * bend, r_hip=-50 * bend, l_knee=90 * bend, r_knee=90 * bend,
                     l_shoulder=-160 * air + 30 * bend, r_shoulder=160 * air - 30 * bend)
            y = stand + 0.05 * bend - 0.18 * amp * air
            x = x0 + direction * 0.06 * math.sin(math.pi * t)
        elif motion == "spin":
            angle = direction * 360 * t * min(cycles, 1.0)
            j.update(l_shoulder=70, r_shoulder=-70, l_elbow=20, r_elbow=-20)
            y = stand - (0.06 if not rigid else 0.1)
        elif motion == "bow":
            b = math.sin(math.pi * min(1.0, t * cycles * 1.3)) ** 2
            angle = direction * 55 * amp * b
            j.update(l_hip=-direction * 55 * amp * b, r_hip=-direction * 55 * amp * b,
                     l_shoulder=direction * 40 * b, r_shoulder=direction * 40 * b)
        elif motion == "hop":
            x = x0 + direction * 0.4 * (t - 0.5)
            hop = abs(math.sin(1.5 * ph))
            y = stand - 0.12 * amp * hop
            angle = direction * 10 * math.cos(1.5 * ph)
            j.update(l_hip=-20 * hop, r_hip=-20 * hop, l_knee=40 * (1 - hop), r_knee=40 * (1 - hop),
                     l_shoulder=-60 * hop, r_shoulder=60 * hop)
        else:
            raise ValueError(f"unknown motion {motion!r} (known: {', '.join(MOTIONS)})")
        poses.append(Pose(x, y, angle, j))
    return poses


class _Pen:
    """Draws in frame fractions on a supersampled canvas, rotated about a pivot."""

    def __init__(self, draw: ImageDraw.ImageDraw, px: float, pivot, angle: float):
        self.d, self.px, self.pivot = draw, px, pivot
        a = math.radians(angle)
        self.c, self.s = math.cos(a), math.sin(a)

    def pt(self, p):
        dx, dy = p[0] - self.pivot[0], p[1] - self.pivot[1]
        return ((self.pivot[0] + self.c * dx - self.s * dy) * self.px,
                (self.pivot[1] + self.s * dx + self.c * dy) * self.px)

    def poly(self, pts, fill):
        self.d.polygon([self.pt(p) for p in pts], fill=fill)

    def disc(self, centre, r, fill):
        x, y = self.pt(centre)
        r *= self.px
        self.d.ellipse((x - r, y - r, x + r, y + r), fill=fill)

    def line(self, a, b, width, fill):
        pa, pb = self.pt(a), self.pt(b)
        self.d.line((pa, pb), fill=fill, width=max(1, round(width * self.px)))
        for p in (pa, pb):
            r = width * self.px / 2
            self.d.ellipse((p[0] - r, p[1] - r, p[0] + r, p[1] + r), fill=fill)


def _dir(deg: float) -> tuple[float, float]:
    a = math.radians(deg)
    return math.sin(a), math.cos(a)


def _limb(pen, start, a1, a2, lengths, width, colour):
    d1 = _dir(a1)
    mid = (start[0] + d1[0] * lengths[0], start[1] + d1[1] * lengths[0])
    d2 = _dir(a1 + a2)
    end = (mid[0] + d2[0] * lengths[1], mid[1] + d2[1] * lengths[1])
    pen.line(start, mid, width, colour)
    pen.line(mid, end, width * 0.9, colour)
    return end


def _rect(cx, cy, w, h):
    return [(cx - w / 2, cy - h / 2), (cx + w / 2, cy - h / 2),
            (cx + w / 2, cy + h / 2), (cx - w / 2, cy + h / 2)]


def _star(cx, cy, r, points=5, inner=0.45, turn=0.0):
    out = []
    for k in range(points * 2):
        rr = r if k % 2 == 0 else r * inner
        a = math.pi * k / points + turn - math.pi / 2
        out.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return out


def _draw_puppet(pen: _Pen, ch: Character, pose: Pose) -> None:
    x, y, j = pose.x, pose.y, pose.joints
    tw, th = ch.torso
    shoulder = (x, y - th + ch.thick * 0.6)
    back_limb, back_arm = _shade(ch.limb, 0.7), _shade(ch.body, 0.75)
    hip = tw / 2 - ch.thick / 2
    _limb(pen, shoulder, j["l_shoulder"], j["l_elbow"], ch.arm, ch.thick * 0.85, back_arm)
    _limb(pen, (x - hip, y), j["l_hip"], j["l_knee"], ch.leg, ch.thick, back_limb)
    pen.poly(_rect(x, y - th / 2, tw, th), ch.body)
    pen.poly(_rect(x, y - th * 0.2, tw, th * 0.12), ch.accent)  # belt
    _limb(pen, (x + hip, y), j["r_hip"], j["r_knee"], ch.leg, ch.thick, ch.limb)
    hr = ch.head_r
    hc = (x, y - th - hr * 0.95)
    if ch.head_shape == "square":
        pen.poly(_rect(hc[0], hc[1], hr * 1.9, hr * 1.9), ch.head)
    elif ch.head_shape == "pointed":
        pen.poly([(hc[0] - hr, hc[1] + hr), (hc[0] + hr, hc[1] + hr), (hc[0] + hr * 0.8, hc[1]),
                  (hc[0], hc[1] - hr * 1.5), (hc[0] - hr * 0.8, hc[1])], ch.head)
    else:
        pen.disc(hc, hr, ch.head)
    eye = (30, 30, 40)
    pen.disc((hc[0] - hr * 0.35, hc[1] - hr * 0.05), hr * 0.2, eye)
    pen.disc((hc[0] + hr * 0.35, hc[1] - hr * 0.05), hr * 0.2, eye)
    pen.poly(_rect(hc[0], hc[1] + hr * 0.5, hr * 0.8, hr * 0.18), _shade(ch.head, 0.6))
    hand = _limb(pen, shoulder, j["r_shoulder"], j["r_elbow"], ch.arm, ch.thick * 0.85, ch.body)
    pen.disc(hand, ch.thick * 0.6, ch.head)
    if ch.prop == "hat":
        top = hc[1] - hr * (1.5 if ch.head_shape == "pointed" else 0.95)
        pen.poly(_rect(hc[0], top, hr * 2.6, hr * 0.35), ch.accent)
        pen.poly(_rect(hc[0], top - hr * 0.6, hr * 1.5, hr * 1.2), ch.accent)
    elif ch.prop == "bowtie":
        by = y - th + ch.thick * 0.3
        pen.poly([(x, by), (x - hr * 0.9, by - hr * 0.5), (x - hr * 0.9, by + hr * 0.5)], ch.accent)
        pen.poly([(x, by), (x + hr * 0.9, by - hr * 0.5), (x + hr * 0.9, by + hr * 0.5)], ch.accent)
    elif ch.prop == "wand":
        d = _dir(j["r_shoulder"] + j["r_elbow"])
        tip = (hand[0] + d[0] * 0.1, hand[1] + d[1] * 0.1)
        pen.line(hand, tip, ch.thick * 0.4, (80, 50, 30))
        pen.poly(_star(tip[0], tip[1], hr * 0.9), ch.accent)
    elif ch.prop == "balloon":
        top = (hand[0] + 0.03, hand[1] - 0.2)
        pen.line(hand, top, 0.006, (60, 60, 60))
        pen.disc((top[0], top[1] - 0.05), 0.05, ch.accent)


def _draw_rigid(pen: _Pen, ch: Character, pose: Pose) -> None:
    x, y, r = pose.x, pose.y, ch.size
    eye = (30, 30, 40)
    if ch.kind == "ball":
        pen.disc((x, y), r, ch.body)
        pen.poly(_rect(x, y, r * 2 * 0.98, r * 0.5), ch.accent)
        pen.disc((x - r * 0.35, y - r * 0.45), r * 0.18, (255, 255, 255))
    elif ch.kind == "star":
        pen.poly(_star(x, y, r * 1.1), ch.body)
        pen.disc((x - r * 0.2, y - r * 0.05), r * 0.1, eye)
        pen.disc((x + r * 0.2, y - r * 0.05), r * 0.1, eye)
        pen.poly(_rect(x, y + r * 0.25, r * 0.35, r * 0.08), ch.accent)
    elif ch.kind == "robot":
        pen.poly(_rect(x, y + r * 0.25, r * 1.5, r * 1.1), ch.body)
        pen.poly(_rect(x, y - r * 0.6, r * 1.1, r * 0.7), ch.limb)
        pen.line((x, y - r * 0.95), (x, y - r * 1.3), r * 0.1, ch.limb)
        pen.disc((x, y - r * 1.3), r * 0.15, ch.accent)
        pen.disc((x - r * 0.25, y - r * 0.6), r * 0.14, ch.accent)
        pen.disc((x + r * 0.25, y - r * 0.6), r * 0.14, ch.accent)
        pen.poly(_rect(x, y + r * 0.3, r * 0.8, r * 0.3), ch.head)
    else:  # fish
        pen.poly([(x - r * 1.25, y - r * 0.6), (x - r * 0.6, y), (x - r * 1.25, y + r * 0.6)],
                 ch.accent)
        pen.poly([(x - r * 0.8, y), (x - r * 0.2, y - r * 0.65), (x + r * 0.6, y - r * 0.5),
                  (x + r * 1.0, y), (x + r * 0.6, y + r * 0.5), (x - r * 0.2, y + r * 0.65)],
                 ch.body)
        fin = [(x - r * 0.1, y - r * 0.6), (x + r * 0.2, y - r * 0.95), (x + r * 0.4, y - r * 0.5)]
        pen.poly(fin, ch.limb)
        pen.disc((x + r * 0.55, y - r * 0.12), r * 0.13, eye)


Size = int | tuple[int, int]
"""A frame size: ``n`` (n×n) or ``(width, height)``. Lengths are fractions of the height and
x positions fractions of the width, so a wider frame gives the same characters more room."""


def frame_size(size: Size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _in_height_units(pose: Pose, w: int, h: int) -> Pose:
    return Pose(pose.x * w / h, pose.y, pose.angle, pose.joints)


def _pivot(ch: Character, pose: Pose) -> tuple[float, float]:
    """The point the body turns about: the torso's middle (puppets) or the centre (rigid)."""
    if ch.kind == "puppet":
        return pose.x, pose.y - ch.torso[1] / 2
    return pose.x, pose.y


def character_layer(ch: Character, pose: Pose, size: Size = 64) -> Image.Image:
    """The character alone: an RGBA image of the frame size (its alpha is the true matte)."""
    w, h = frame_size(size)
    canvas = Image.new("RGBA", (w * SS, h * SS), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    pose = _in_height_units(pose, w, h)
    pen = _Pen(draw, h * SS, _pivot(ch, pose), pose.angle)
    (_draw_puppet if ch.kind == "puppet" else _draw_rigid)(pen, ch, pose)
    return canvas.resize((w, h), Image.BOX)


def pose_matrix(ch: Character, pose: Pose, size: Size) -> np.ndarray:
    """3×3 pixel map (pixel centres at integers, as OpenCV) from the character's body at rest
    (its pivot at the origin, upright) to where ``pose`` draws it in a frame of ``size``. For
    rigid characters it places every pixel exactly; for puppets it is the body's (root) motion
    — the limbs move on top of it."""
    w, h = frame_size(size)
    px, py = _pivot(ch, _in_height_units(pose, w, h))
    a = math.radians(pose.angle)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, px * h - 0.5], [s, c, py * h - 0.5], [0.0, 0.0, 1.0]])


def true_motion(ch: Character, start: Pose, end: Pose, size: Size) -> np.ndarray:
    """The 2×3 forward pixel map that takes the character in pose ``start`` to pose ``end``."""
    return (pose_matrix(ch, end, size) @ np.linalg.inv(pose_matrix(ch, start, size)))[:2]


# ---- backgrounds ----------------------------------------------------------------------------

SKIES = {
    "meadow": ((110, 170, 240), (200, 230, 255)),
    "beach": ((70, 160, 230), (190, 235, 250)),
    "night": ((10, 15, 50), (50, 60, 120)),
    "sunset": ((90, 60, 140), (255, 160, 90)),
    "stage": ((60, 20, 30), (110, 40, 50)),
    "town": ((150, 190, 235), (235, 225, 210)),
}
GROUNDS = {
    "meadow": ((80, 170, 70), (60, 140, 55)),
    "beach": ((240, 215, 150), (220, 190, 120)),
    "night": ((30, 70, 50), (20, 50, 40)),
    "sunset": ((150, 110, 70), (120, 85, 55)),
    "stage": ((170, 110, 60), (140, 85, 45)),
    "town": ((150, 150, 150), (120, 120, 125)),
}


@dataclass(frozen=True)
class Background:
    name: str
    kind: str  # "diamonds" or one of SETS
    seed: int


def make_background(split: str, index: int, seed: int = 0) -> Background:
    """Background ``index`` of a split: every fourth one the paper's diamonds, the rest sets."""
    rng = _rng(seed, split, 2, index)
    kind = "diamonds" if index % 4 == 3 else SETS[int(rng.integers(len(SETS)))]
    return Background(f"{split}-{kind}-{index}", kind, int(rng.integers(2**31)))


def _jitter(c, rng, amount=25):
    return tuple(int(np.clip(v + rng.integers(-amount, amount + 1), 0, 255)) for v in c)


def render_background(bg: Background, size: Size = 64) -> np.ndarray:
    """A background as uint8 RGB (height, width, 3)."""
    fw, fh = frame_size(size)
    if bg.kind == "diamonds":
        side = max(fw, fh)
        full = make_backgrounds(1, "train", side, seed=bg.seed)[0]
        y0, x0 = (side - fh) // 2, (side - fw) // 2
        return np.ascontiguousarray(full[y0 : y0 + fh, x0 : x0 + fw])
    rng = np.random.default_rng(bg.seed)
    n, nx = fh * SS, fw * SS
    top, bottom = (_jitter(c, rng) for c in SKIES[bg.kind])
    horizon = float(rng.uniform(0.58, 0.7))
    ramp = np.linspace(0, 1, n)[:, None, None]
    sky = (np.array(top) * (1 - ramp) + np.array(bottom) * ramp).astype(np.uint8)
    img = Image.fromarray(np.broadcast_to(sky, (n, nx, 3)).copy())
    d = ImageDraw.Draw(img)

    def box(cx, cy, rx, ry):
        return (cx * nx - rx * n, cy * n - ry * n, cx * nx + rx * n, cy * n + ry * n)

    if bg.kind == "stage":
        d.rectangle((0, 0, nx, n * 0.08), fill=(120, 20, 30))
    elif bg.kind == "night":
        for _ in range(int(rng.integers(8, 20))):
            sx, sy = rng.uniform(0, 1), rng.uniform(0, horizon - 0.05)
            d.ellipse(box(sx, sy, 0.006, 0.006), fill=(255, 255, 220))
        mx, my = rng.uniform(0.15, 0.85), rng.uniform(0.1, 0.3)
        d.ellipse(box(mx, my, 0.07, 0.07), fill=(245, 240, 210))
    else:
        sx, sy = rng.uniform(0.1, 0.9), rng.uniform(0.08, 0.3)
        sun = (255, 230, 90) if bg.kind != "sunset" else (255, 120, 60)
        d.ellipse(box(sx, sy, 0.07, 0.07), fill=sun)
        for _ in range(int(rng.integers(0, 4))):
            cx, cy = rng.uniform(0, 1), rng.uniform(0.05, horizon - 0.2)
            for k in range(3):
                d.ellipse(box(cx + (k - 1) * 0.05, cy + (k % 2) * 0.015, 0.05, 0.03),
                          fill=(250, 250, 252))
    if bg.kind in ("meadow", "night", "sunset"):
        for _ in range(int(rng.integers(1, 4))):
            hx, hr = rng.uniform(0, 1), rng.uniform(0.2, 0.4)
            d.ellipse(box(hx, horizon + 0.05, hr, 0.12), fill=_jitter(GROUNDS[bg.kind][1], rng, 30))
    g1, g2 = (_jitter(c, rng, 15) for c in GROUNDS[bg.kind])
    d.rectangle((0, horizon * n, nx, n), fill=g1)
    stripes = 6 if bg.kind == "stage" else 3
    for k in range(stripes):
        y = horizon + (1 - horizon) * (k + 0.5) / stripes
        d.rectangle((0, y * n, nx, (y + 0.012) * n), fill=g2)
    for _ in range(int(rng.integers(1, 4))):
        px = float(rng.uniform(0.02, 0.98))
        kind = _pick(rng, ("tree", "house", "fence", "rock", "flower"))
        base = horizon + 0.02
        if bg.kind == "stage":
            kind = "curtain"
        if kind == "tree":
            d.rectangle(box(px, base - 0.08, 0.015, 0.08), fill=(110, 70, 40))
            d.ellipse(box(px, base - 0.2, 0.07, 0.08), fill=_jitter((40, 120, 50), rng, 30))
        elif kind == "house" or (bg.kind == "town" and kind != "fence"):
            w, h = rng.uniform(0.1, 0.16), rng.uniform(0.12, 0.2)
            wall = _jitter(_pick(rng, ((220, 200, 170), (200, 120, 90), (180, 190, 210))), rng)
            d.rectangle(box(px, base - h / 2, w / 2, h / 2), fill=wall)
            d.polygon([(px * nx - (w / 2 + 0.02) * n, (base - h) * n), (px * nx + (w / 2 + 0.02)
                       * n, (base - h) * n), (px * nx, (base - h - 0.08) * n)], fill=(150, 50, 40))
            d.rectangle(box(px, base - 0.035, 0.015, 0.035), fill=(90, 60, 40))
        elif kind == "fence":
            for k in range(6):
                d.rectangle(box(px + k * 0.04 - 0.1, base - 0.035, 0.008, 0.035),
                            fill=(235, 235, 225))
            d.rectangle(box(px, base - 0.045, 0.12, 0.005), fill=(235, 235, 225))
        elif kind == "rock":
            d.ellipse(box(px, base, 0.05, 0.03), fill=(130, 130, 140))
        elif kind == "flower":
            for _ in range(4):
                fx, fy = px + rng.uniform(-0.1, 0.1), base + rng.uniform(0.0, 0.25)
                d.ellipse(box(fx, fy, 0.012, 0.012), fill=_pick(rng, BRIGHT))
        else:
            d.rectangle((0, 0, nx * 0.12, n * horizon), fill=(150, 25, 35))
            d.rectangle((nx * 0.88, 0, nx, n * horizon), fill=(150, 25, 35))
    return np.asarray(img.resize((fw, fh), Image.BOX))


# ---- clips -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipSpec:
    """One clip: a character performing a motion on a background. ``motion_seed`` fixes the
    motion's start, direction, speed and amplitude, so two specs with the same motion and
    motion_seed move identically."""

    character: Character
    background: Background
    motion: str
    motion_seed: int
    frames: int = FRAMES
    length: int | None = None
    """Frames drawn (default ``frames``), at the pace of a ``frames``-frame clip."""

    @property
    def name(self) -> str:
        return f"{self.character.name}_{self.motion}_{self.background.name}"

    def poses(self) -> list[Pose]:
        return motion_poses(self.motion, self.character, self.frames,
                            np.random.default_rng(self.motion_seed), self.length)


def compose(ch: Character, pose: Pose, background: np.ndarray) -> np.ndarray:
    """``ch`` in ``pose`` over a uint8 RGB background (any size)."""
    h, w = background.shape[:2]
    layer = character_layer(ch, pose, (w, h))
    out = Image.fromarray(background).convert("RGBA")
    return np.asarray(Image.alpha_composite(out, layer).convert("RGB"))


def render_clip(spec: ClipSpec, size: Size = 64, background: np.ndarray | None = None,
                character: Character | None = None) -> np.ndarray:
    """The clip's frames, uint8 (frames, height, width, 3). ``background`` / ``character``
    replace the spec's (ground truth for background swap and animation transfer)."""
    bg = render_background(spec.background, size) if background is None else background
    ch = spec.character if character is None else character
    return np.stack([compose(ch, p, bg) for p in spec.poses()])


def true_mattes(spec: ClipSpec, size: Size = 64) -> np.ndarray:
    """The clip's true mattes, float32 (frames, height, width) in [0, 1]."""
    return np.stack([np.asarray(character_layer(spec.character, p, size))[..., 3] / np.float32(255)
                     for p in spec.poses()])


def clip_specs(split: str, count: int, seed: int = 0, characters: int = 24,
               backgrounds: int = 32) -> list[ClipSpec]:
    """``count`` clips of a split: a cast of ``characters``, ``backgrounds`` sets; clip k uses
    character k mod cast, a random background and a random motion."""
    rng = _rng(seed, split, 3, 0)
    cast = [make_character(split, i, seed) for i in range(characters)]
    sets = [make_background(split, i, seed) for i in range(backgrounds)]
    out = []
    for k in range(count):
        ch = cast[k % len(cast)]
        motion = _pick(rng, MOTIONS)
        out.append(ClipSpec(ch, sets[int(rng.integers(len(sets)))], motion,
                            int(rng.integers(2**31))))
    return out


def write_clips(out_dir, specs: list[ClipSpec], size: Size = 64, fps: float = FPS,
                progress=None) -> list[Path]:
    """Write each spec as ``NNNN_<name>.mp4`` (H.264, high quality)."""
    from engine.data.clips import write_video

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, spec in enumerate(specs):
        paths.append(write_video(out / f"{k:04d}_{spec.name}.mp4", render_clip(spec, size),
                                 fps=fps, quality=9))
        if progress:
            progress(k + 1, len(specs))
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m engine.data.demokit",
        description="Write demo-kit clips (procedural characters, motions and sets) as videos.",
    )
    p.add_argument("--out", required=True, help="folder to write the clips into")
    p.add_argument("--split", choices=tuple(SPLITS), default="train",
                   help="train, test (held-out characters and backgrounds) or demo")
    p.add_argument("--count", type=int, default=480, help="number of clips (default 480)")
    p.add_argument("--characters", type=int, default=24, help="cast size (default 24)")
    p.add_argument("--backgrounds", type=int, default=32, help="backgrounds (default 32)")
    p.add_argument("--size", default="64",
                   help="frame size: N (N×N) or WxH, e.g. 320x240 (default 64)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        w, _, h = args.size.lower().partition("x")
        size = (int(w), int(h)) if h else int(w)
    except ValueError:
        size = 0
    sides = size if isinstance(size, tuple) else (size, size)
    if args.count < 1 or args.characters < 1 or args.backgrounds < 1 or min(sides) < 16:
        print("error: --count, --characters, --backgrounds must be >= 1, --size N or WxH, "
              "each side >= 16", file=sys.stderr)  # fmt: skip
        return 2
    from engine.progress import Bar

    show = Bar(unit="clips")
    specs = clip_specs(args.split, args.count, args.seed, args.characters, args.backgrounds)
    paths = write_clips(args.out, specs, size, progress=show)
    show.close()
    print(f"wrote {len(paths)} clips to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
