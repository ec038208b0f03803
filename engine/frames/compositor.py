"""The compositor: clip layers and a motion → frames at the project's output size (pixels mode).

Data path role: the pixels renderer. A frame is the background clip's clean plate, fitted to the
output, with the character's cut-out (its own pixels and matte, at its clip's resolution) moved
by a forward pixel map and laid over it with premultiplied alpha:

    out = F·α (warped) + (1 − α (warped))·plate

Coordinates: a clip's frame is *fitted* into the output (scaled to fit whole, centred; bars where
the aspects differ — nothing is cropped), :func:`fit_matrix`. Frames are uint8 HWC everywhere.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.geometry import homogeneous

OUTPUT_LAYERS = ("composite", "background", "character", "matte", "cutout")
"""``character`` is the cut-out over black (RGB), ``matte`` its alpha as grey (RGB),
``cutout`` the character alone as RGBA (for transparent exports)."""


def fit_matrix(src: tuple[int, int], dst: tuple[int, int]) -> np.ndarray:
    """3×3 pixel map that fits a ``src`` (w, h) frame whole and centred into ``dst`` (w, h)."""
    (sw, sh), (dw, dh) = src, dst
    s = min(dw / sw, dh / sh)
    # pixel centres at integers: the frame's extent [-0.5, w - 0.5] maps into the output's
    tx = (dw - sw * s) / 2 + 0.5 * s - 0.5
    ty = (dh - sh * s) / 2 + 0.5 * s - 0.5
    return np.array([[s, 0, tx], [0, s, ty], [0, 0, 1.0]])


def fit_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An image (H, W, C) fitted whole into ``size`` (w, h), black bars where aspects differ."""
    h, w = image.shape[:2]
    if (w, h) == tuple(size):
        return image
    m = fit_matrix((w, h), size)
    interp = cv2.INTER_AREA if m[0, 0] < 1 else cv2.INTER_CUBIC
    nw, nh = max(1, round(w * m[0, 0])), max(1, round(h * m[0, 0]))
    out = np.zeros((size[1], size[0], image.shape[2]), np.uint8)
    x0, y0 = (size[0] - nw) // 2, (size[1] - nh) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(image, (nw, nh), interpolation=interp)
    return out


def place(rgba: np.ndarray, x0: int, y0: int, matrix: np.ndarray, size: tuple[int, int]):
    """Warp a cut-out (RGBA crop whose top-left sits at (x0, y0) of its frame) by the forward
    map ``matrix`` (frame → output pixels) into the output of ``size`` (w, h). Returns the
    premultiplied colour (h', w', 3) float32 and alpha (h', w', 1) float32 of the output's
    region it covers, and that region's top-left (ox, oy); None when nothing shows."""
    m = homogeneous(matrix) @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1.0]])
    h, w = rgba.shape[:2]
    corners = m @ np.array([[-0.5, w - 0.5, -0.5, w - 0.5], [-0.5, -0.5, h - 0.5, h - 0.5],
                            [1, 1, 1, 1.0]])  # fmt: skip
    ox = max(0, int(np.floor(corners[0].min())) - 1)
    oy = max(0, int(np.floor(corners[1].min())) - 1)
    ex = min(size[0], int(np.ceil(corners[0].max())) + 2)
    ey = min(size[1], int(np.ceil(corners[1].max())) + 2)
    if ex <= ox or ey <= oy:
        return None
    src = rgba.astype(np.float32)
    src[..., :3] *= src[..., 3:] / 255
    scale = np.sqrt(abs(np.linalg.det(m[:2, :2])))
    if scale < 0.7:  # shrinking: area-average first, so fine detail does not alias
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        src = cv2.resize(src, (sw, sh), interpolation=cv2.INTER_AREA)
        m = m @ np.array([[w / sw, 0, 0.5 * w / sw - 0.5], [0, h / sh, 0.5 * h / sh - 0.5],
                          [0, 0, 1]])  # fmt: skip
    m = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1.0]]) @ m
    out = cv2.warpAffine(src, m[:2], (ex - ox, ey - oy), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))  # fmt: skip
    return out[..., :3], out[..., 3:] / 255, ox, oy


def over(top, bottom):
    """Two :func:`place` results laid one over the other (premultiplied "over"), as one."""
    if top is None or bottom is None:
        return top if bottom is None else bottom
    (tc, ta, tx, ty), (bc, ba, bx, by) = top, bottom
    ox, oy = min(tx, bx), min(ty, by)
    ex = max(tx + tc.shape[1], bx + bc.shape[1])
    ey = max(ty + tc.shape[0], by + bc.shape[0])
    colour = np.zeros((ey - oy, ex - ox, 3), np.float32)
    alpha = np.zeros((ey - oy, ex - ox, 1), np.float32)
    colour[by - oy : by - oy + bc.shape[0], bx - ox : bx - ox + bc.shape[1]] = bc
    alpha[by - oy : by - oy + ba.shape[0], bx - ox : bx - ox + ba.shape[1]] = ba
    region = (slice(ty - oy, ty - oy + tc.shape[0]), slice(tx - ox, tx - ox + tc.shape[1]))
    colour[region] = tc + (1 - ta) * colour[region]
    alpha[region] = ta + (1 - ta) * alpha[region]
    return colour, alpha, ox, oy


def composite(plate: np.ndarray, placed, layer: str = "composite") -> np.ndarray:
    """One output frame of ``layer`` from the fitted plate (H, W, 3) uint8 and :func:`place`'s
    result (or None: no character shows)."""
    if layer == "background":
        return plate
    h, w = plate.shape[:2]
    if layer == "composite":
        out = plate.copy()
        if placed is not None:
            colour, alpha, ox, oy = placed
            region = out[oy : oy + colour.shape[0], ox : ox + colour.shape[1]]
            mixed = colour + (1 - alpha) * region.astype(np.float32)
            region[...] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        return out
    rgba = np.zeros((h, w, 4), np.uint8)
    if placed is not None:
        colour, alpha, ox, oy = placed
        region = rgba[oy : oy + colour.shape[0], ox : ox + colour.shape[1]]
        region[..., :3] = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
        region[..., 3:] = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    if layer == "character":
        return np.ascontiguousarray(rgba[..., :3])
    if layer == "matte":
        return np.ascontiguousarray(np.repeat(rgba[..., 3:], 3, axis=2))
    if layer == "cutout":  # straight (not premultiplied) colour, as PNG and WebM expect
        a = rgba[..., 3:].astype(np.float32)
        rgb = rgba[..., :3].astype(np.float32) * 255 / np.maximum(a, 1)
        rgba[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
        return rgba
    raise ValueError(f"unknown layer {layer!r} (choose from {', '.join(OUTPUT_LAYERS)})")


def placeholder(size: tuple[int, int], text: str, layer: str = "composite") -> np.ndarray:
    """The frame of a shot that cannot be drawn (its clip offline, unreadable, or not what the
    project says): dark, hatched in red, "OFFLINE" and ``text`` (what is missing; lines split
    at newlines, and wrapped to the frame) written on it — as editors show media offline, so a
    render or an export goes on and the gap is plain to see. RGBA (opaque) for ``cutout``."""
    w, h = size
    out = np.full((h, w, 3), (36, 36, 44), np.uint8)
    step = max(8, min(w, h) // 12)
    for x in range(-h, w, step):
        cv2.line(out, (x, h), (x + h, 0), (88, 30, 36), max(1, step // 6), cv2.LINE_AA)
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.3, min(w, h) / 400)
    thick = max(1, round(scale * 2))
    lines = [("OFFLINE", 1.6 * scale)]
    for part in text.split("\n"):
        lines += [(line, 0.8 * scale) for line in _wrap(part, 0.9 * w, font, 0.8 * scale, thick)]
    lines = lines[:6]
    heights = [cv2.getTextSize(t, font, s, thick)[0][1] for t, s in lines]
    y = (h - sum(heights) * 1.8) / 2 + heights[0]
    for (line, s), th in zip(lines, heights, strict=True):
        tw = cv2.getTextSize(line, font, s, thick)[0][0]
        cv2.putText(out, line, ((w - tw) // 2, int(y)), font, s, (235, 235, 235), thick,
                    cv2.LINE_AA)  # fmt: skip
        y += th * 1.8
    if layer == "cutout":
        return np.dstack([out, np.full((h, w), 255, np.uint8)])
    return out


def _wrap(text: str, width: float, font: int, scale: float, thick: int) -> list[str]:
    """``text`` in lines at most ``width`` pixels wide, broken at spaces (a long path after its
    slashes); OpenCV's Hershey font draws ASCII only, so anything else becomes ``?``."""
    text = text.encode("ascii", "replace").decode()

    def fits(t: str) -> bool:
        return cv2.getTextSize(t, font, scale, thick)[0][0] <= width

    lines, line = [], ""
    for word in text.split():
        pieces = [word]
        if not fits(word) and "/" in word:  # a path: after its slashes
            pieces = [p + "/" for p in word.split("/")[:-1]] + [word.split("/")[-1]]
        for piece in pieces:
            glue = "" if line.endswith("/") else " "
            if line and not fits(line + glue + piece):
                lines.append(line)
                line = piece
            else:
                line = (line + glue + piece) if line else piece
    return [*lines, line] if line else lines
