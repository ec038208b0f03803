"""The model renderer: every frame decoded by g from the encodings of its character and
background frames, the character's moved by T^Z of the motion frame, then the drive's extra map
and path (theta_k · extra⁻¹ · path⁻¹: the motion clip, the model's square and the output share
normalised coordinates). Soft, but it can change a pose. Frames of one batch are decoded
together; the motion in full precision, g in the chosen precision."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

from engine.device import autocast
from engine.document import Shot
from engine.frames.cache import LRU
from engine.frames.compositor import fit_matrix
from engine.frames.drive import Drives
from engine.frames.inputs import Inputs
from engine.geometry import homogeneous, normaliser
from engine.model import warp

MATTE_RANGE = (0.03, 0.10)
"""Cut-out alpha: 0 where composite and background layer differ by less than the first value
(max over RGB, 0–1 scale), 1 above the second, linear between."""


class ModelRenderer:
    """``size()``: the output size now; ``precision``: g's ("fp32", "bf16", …); ``centres``: as
    engine.frames.pixels.PixelRenderer's."""

    def __init__(self, inputs: Inputs, drives: Drives, size: Callable[[], tuple[int, int]],
                 precision: str, centres: LRU) -> None:  # fmt: skip
        self.inputs, self.drives, self.size = inputs, drives, size
        self.precision, self.centres = precision, centres

    def render(self, wanted: dict[tuple, tuple[Shot, int]]) -> list[np.ndarray]:
        """Frames of distinct frame keys (engine.frames.key), all of one layer, in one batch."""
        keys = list(wanted)
        layer = keys[0][1]
        inputs, m = self.inputs, self.inputs.model
        theta = None
        if layer != "background":
            with torch.inference_mode():  # motion in full precision: walks, predictions, paths
                theta = torch.stack([self.theta(*w) for w in wanted.values()])
        with torch.inference_mode(), autocast(inputs.device, self.precision):
            if layer == "background":
                zb = torch.stack([inputs.encoded(inputs.zb, m.f_b, *k[2]) for k in keys])
                images = m.g(zb)
            else:
                zc = torch.stack([inputs.encoded(inputs.zc, m.f_c, *k[2][:2]) for k in keys])
                with torch.autocast(inputs.device.type, enabled=False):
                    # sampling positions in fp32: in bf16 they snap to 1/128 of the frame
                    moved = warp(zc.float(), theta)
                if layer == "character":
                    images = m.g(moved)
                else:
                    zb = torch.stack([inputs.encoded(inputs.zb, m.f_b, *k[3]) for k in keys])
                    images = m.g(moved + zb)
                    if layer in ("cutout", "matte"):
                        images = with_matte(images, m.g(zb))
                        if layer == "matte":
                            images = images[:, 3:].expand(-1, 3, -1, -1)
            out = images.float().mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)
        # g's output is channels_last, so this permute is already contiguous (no copy)
        frames = list(out.permute(0, 2, 3, 1).cpu().numpy())
        size = self.size()
        if size != (inputs.model_size, inputs.model_size):
            # stretched back: the model sees whole frames stretched to its square
            frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in frames]
        return frames

    def theta(self, shot: Shot, local: int) -> torch.Tensor:
        """The theta that moves the character at a shot's local frame — T^Z of the motion frame,
        then the walk's extra map, then the path: theta_k · extra⁻¹ · path⁻¹."""
        drive = self.drives.drive(shot, local)
        theta = self.inputs.theta(shot.motion, drive.k)
        size = self.size()
        n = normaliser(*size)
        if shot.character.clip != shot.motion.clip:  # a transfer: the pixels mode's root motion
            forward, centre = self.transfer(shot, local, size)
        else:
            forward = np.linalg.inv(homogeneous(theta.float().cpu().numpy()))
            if drive.extra is not None:
                forward = drive.extra @ forward
            centre = self.inputs.model_centre(shot.motion)[0]
        where = np.linalg.inv(n) @ forward @ np.append(centre, 1.0)
        self.centres.put((shot.id, local), (float(where[0]), float(where[1])))
        if drive.extra is None and not drive.path and shot.character.clip == shot.motion.clip:
            return theta
        if drive.path:
            forward = n @ drive.path_at(where[:2], size) @ np.linalg.inv(n) @ forward
        return torch.as_tensor(np.linalg.inv(forward)[:2], dtype=theta.dtype, device=theta.device)


    def transfer(self, shot: Shot, local: int, size: tuple[int, int]):
        """A transfer's forward map (normalised: the character's frame as the model sees it →
        the output) and the character's centre in it: its character frame put where the
        transfer plan puts it (engine.frames.transfer) — the same path, size and turn as in
        pixels mode; the pose is the model's of that one frame."""
        place = self.drives.place(shot, local, size)
        layers = self.inputs.layers(shot.character.clip)
        wk = self.drives.transfer(shot, size).src.walker
        place.foot, place.frame = wk.ground[0], int(wk.frames[0])
        fit = fit_matrix(layers.size, size)[0, 0]
        px = place.matrix(fit, wk.centre[0])
        n_a = normaliser(*layers.size)
        centre = (n_a @ np.append(wk.centre[0], 1.0))[:2]
        return normaliser(*size) @ px @ np.linalg.inv(n_a), centre


def with_matte(composite: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """A composite with its cut-out's alpha: where it differs from the background (MATTE_RANGE)."""
    lo, hi = MATTE_RANGE
    diff = (composite.float() - background.float()).abs().amax(dim=1, keepdim=True)
    alpha = ((diff - lo) / (hi - lo)).clamp(0, 1)
    return torch.cat([composite.float(), alpha], dim=1)
