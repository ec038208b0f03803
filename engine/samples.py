"""Sample grids: what a model does to a few pairs, as one labelled PNG.

Rows (one column per example): frame 1, frame 2, reconstruction h(x1, x1, x2, x1),
background swap h(x1, x1, x2, x1 of the next example), animation transfer h(x1 of the next
example, x1, x2, x1 of the next example), background layer g(f_b(x1)), character layer
g(T ∘ f_c(x1)).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

ROWS = (
    "frame 1",
    "frame 2",
    "reconstruction",
    "background swap",
    "animation transfer",
    "background layer",
    "character layer",
)


def to_tensor(frames: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (N, H, W, 3) → float32 (N, 3, H, W) in [0, 1] on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(frames)).to(device)
    return t.permute(0, 3, 1, 2).float().div_(255.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [0, 1] → uint8 (N, H, W, 3)."""
    x = images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


@torch.inference_mode()
def sample_rows(model, x1: torch.Tensor, x2: torch.Tensor) -> list[torch.Tensor]:
    other = torch.roll(torch.arange(x1.shape[0]), -1)
    zc1, zc2, zb1 = model.f_c(x1), model.f_c(x2), model.f_b(x1)
    theta = model.transformation(zc1, zc2)
    return [
        x1,
        x2,
        model.compose(zc1, theta, zb1),
        model.compose(zc1, theta, zb1[other]),
        model.compose(zc1[other], theta, zb1[other]),
        model.g(zb1),
        model.compose(zc1, theta, None),
    ]


def grid_image(rows: list[np.ndarray], labels=ROWS, label_width: int = 118) -> Image.Image:
    """Stack rows of uint8 (N, H, W, 3) tiles into one image with a label column."""
    n, h, w = rows[0].shape[:3]
    pad = 2
    img = Image.new("RGB", (label_width + n * (w + pad), len(rows) * (h + pad)), (32, 32, 36))
    draw = ImageDraw.Draw(img)
    for r, (label, tiles) in enumerate(zip(labels, rows, strict=True)):
        y = r * (h + pad)
        draw.text((4, y + h // 2 - 6), label, fill=(230, 230, 230))
        for c in range(n):
            img.paste(Image.fromarray(tiles[c]), (label_width + c * (w + pad), y))
    return img


def sample_grid(model, x1: torch.Tensor, x2: torch.Tensor) -> Image.Image:
    was_training = model.training
    model.eval()
    try:
        rows = [to_uint8(r) for r in sample_rows(model, x1, x2)]
    finally:
        model.train(was_training)
    return grid_image(rows)
