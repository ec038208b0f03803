"""The equivariant scene model: encoders f_c and f_b, transformation T^Z, renderer g, losses.

Data path role: everything between a batch of float images (N, 3, H, W) in [0, 1] and either the
training losses or a rendered image. See ../shared/docs/MODEL.md and the paper
(Resnick et al., "Equivariant scene synthesis") for the maths.

    h(x_c, x_t1, x_t2, x_b) = g( T^Z(f_c(x_t1), f_c(x_t2)) ∘ f_c(x_c) + f_b(x_b) )

Affine convention (whoever compares T^Z with an image-space transform must read this):
T^Z outputs ``theta`` of shape (N, 2, 3) and is applied with ``F.affine_grid(theta)`` followed by
``F.grid_sample`` with ``align_corners=False``. ``theta`` maps *output* coordinates to *input*
coordinates, both in the normalised [-1, 1] space of the feature map (x to the right, y down,
(-1, -1) the top-left corner of the top-left cell). So if the character moves by the forward map
A (input → output, normalised coordinates, as a 3x3 homogeneous matrix), the ideal theta is the
top two rows of A⁻¹. A translation of the content by +t (normalised) shows up as theta's last
column ≈ -t.

In pixels: the model sees a whole frame of any W×H (stretched to its square input, so its
normalised coordinates are the frame's own, per axis); engine.geometry maps theta to the
frame's pixel coordinates and back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

IDENTITY_THETA = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


MAX_STAGES = 6
MAX_CHANNELS = 4096
MAX_IMAGE_SIZE = 2048
"""Bounds on a config read from a file: beyond them a header is damaged, not a model."""


@dataclass(frozen=True)
class ModelConfig:
    """Every number that shapes the networks. Stored in each checkpoint's header."""

    image_size: int = 64
    """Square input/output size in pixels; a multiple of 16."""
    widths: tuple[int, ...] = (32, 64)
    """Channels of each stride-2 stage; the latent grid is image_size / 2**len(widths)."""
    latent_channels: int = 64
    res_blocks: int = 2
    """Residual blocks per encoder stage."""
    transform_hidden: int = 256
    in_channels: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.widths, (list, tuple)) or not 1 <= len(self.widths) <= MAX_STAGES:
            raise ValueError(
                f"widths must list 1…{MAX_STAGES} channel counts (got {self.widths!r})"
            )
        for name, value, lo in (
            *(("widths", w, 1) for w in self.widths),
            ("image_size", self.image_size, 16),
            ("latent_channels", self.latent_channels, 1),
            ("res_blocks", self.res_blocks, 0),
            ("transform_hidden", self.transform_hidden, 1),
            ("in_channels", self.in_channels, 1),
        ):
            hi = MAX_IMAGE_SIZE if name == "image_size" else MAX_CHANNELS
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"{name} must be a whole number {lo}…{hi} (got {value!r})")
        object.__setattr__(self, "widths", tuple(self.widths))
        if self.image_size < 16 or self.image_size % 16:
            raise ValueError(f"image size must be a multiple of 16 (got {self.image_size})")
        if self.image_size % (2 ** len(self.widths)):
            raise ValueError("image size must be divisible by 2**len(widths)")

    @property
    def latent_size(self) -> int:
        return self.image_size // 2 ** len(self.widths)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**d)


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)


class ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = _act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.conv2(self.act(self.conv1(x))))


class Encoder(nn.Module):
    """Residual CNN: stem conv, then per stage a stride-2 conv and residual blocks; 1x1 out."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(cfg.in_channels, cfg.widths[0], 3, padding=1), _act()]
        prev = cfg.widths[0]
        for width in cfg.widths:
            layers += [nn.Conv2d(prev, width, 4, stride=2, padding=1), _act()]
            layers += [ResBlock(width) for _ in range(cfg.res_blocks)]
            prev = width
        layers.append(nn.Conv2d(prev, cfg.latent_channels, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # centred input: measured to reach a clearly lower L_scene in the same number of steps
        return self.net(x * 2 - 1)


class Renderer(nn.Module):
    """g: the encoder's mirror without residual connections; sigmoid output in [0, 1]."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        widths = list(reversed(cfg.widths))
        layers: list[nn.Module] = [nn.Conv2d(cfg.latent_channels, widths[0], 1), _act()]
        for i, width in enumerate(widths):
            out = widths[i + 1] if i + 1 < len(widths) else cfg.widths[0]
            for _ in range(cfg.res_blocks):
                layers += [nn.Conv2d(width, width, 3, padding=1), _act()]
            layers += [nn.ConvTranspose2d(width, out, 4, stride=2, padding=1), _act()]
        layers += [nn.Conv2d(cfg.widths[0], cfg.in_channels, 3, padding=1), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Transformation(nn.Module):
    """T^Z(z1, z2) → (N, 2, 3) affine. Order dependent (the inputs are concatenated, not
    symmetrised) and exactly the identity at initialisation (zero last layer, identity bias)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        c = cfg.latent_channels
        self.features = nn.Sequential(
            nn.Conv2d(2 * c, c, 3, stride=2, padding=1),
            _act(),
            nn.Conv2d(c, c, 3, stride=2, padding=1),
            _act(),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(c * 16, cfg.transform_hidden),
            _act(),
        )
        self.head = nn.Linear(cfg.transform_hidden, 6)
        nn.init.zeros_(self.head.weight)
        with torch.no_grad():
            self.head.bias.copy_(torch.tensor(IDENTITY_THETA))

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(torch.cat([z1, z2], dim=1))).view(-1, 2, 3)


def warp(z: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Apply theta to a feature map (convention in the module docstring)."""
    theta = theta.to(z.dtype)
    grid = F.affine_grid(theta, list(z.shape), align_corners=False)
    return F.grid_sample(z, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def feature_scale(z: torch.Tensor) -> torch.Tensor:
    """Mean per-channel variance of a feature map over batch and space."""
    return z.float().var(dim=(0, 2, 3)).mean()


def relative_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-channel (pred − target)² divided by that channel's variance in the target, averaged
    over channels.

    MODEL.md's pitfall: with a plain L2 the encoders lower the loss by shrinking their features.
    This ratio does not change when a channel is scaled, a constant offset is not variance, and
    since each channel is normalised by itself, inflating one junk channel cannot drown the
    others (a mean-over-all-channels denominator was measured to let f_c's variance run up to
    2e7 while the loss sat at 1: the helper loss was switched off in effect). Channels with
    almost no variance are floored at 1% of the median channel's variance."""
    pred, target = pred.float(), target.float()
    err = (pred - target).pow(2).mean(dim=(0, 2, 3))
    var = target.var(dim=(0, 2, 3))
    floor = 0.01 * var.median().detach() + 1e-12
    return (err / torch.clamp(var, min=floor)).mean()


class SceneModel(nn.Module):
    def __init__(self, cfg: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = cfg or ModelConfig()
        self.f_c = Encoder(self.config)
        self.f_b = Encoder(self.config)
        self.transform = Transformation(self.config)
        self.g = Renderer(self.config)

    # -- the pieces of h -------------------------------------------------------------------------
    def encode_character(self, x: torch.Tensor) -> torch.Tensor:
        return self.f_c(x)

    def encode_background(self, x: torch.Tensor) -> torch.Tensor:
        return self.f_b(x)

    def transformation(self, z_t1: torch.Tensor, z_t2: torch.Tensor) -> torch.Tensor:
        return self.transform(z_t1, z_t2)

    def compose(
        self, z_c: torch.Tensor, theta: torch.Tensor, z_b: torch.Tensor | None
    ) -> torch.Tensor:
        """g(theta ∘ z_c + z_b); z_b None renders the character alone."""
        moved = warp(z_c, theta)
        return self.g(moved if z_b is None else moved + z_b)

    # -- whole renderings --------------------------------------------------------------------------
    def render(
        self,
        x_c: torch.Tensor,
        x_t1: torch.Tensor,
        x_t2: torch.Tensor,
        x_b: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """h(x_c, x_t1, x_t2, x_b), batched. Returns (image, theta)."""
        theta = self.transformation(self.f_c(x_t1), self.f_c(x_t2))
        return self.compose(self.f_c(x_c), theta, self.f_b(x_b)), theta

    def render_background(self, x_b: torch.Tensor) -> torch.Tensor:
        """Background layer alone: g(f_b(x_b))."""
        return self.g(self.f_b(x_b))

    def render_character(
        self, x_c: torch.Tensor, theta: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Character layer alone: g(T ∘ f_c(x_c)), identity T when theta is None."""
        z = self.f_c(x_c)
        if theta is None:
            theta = identity_theta(z.shape[0], z.device)
        return self.compose(z, theta, None)

    # -- training ----------------------------------------------------------------------------------
    def forward(
        self,
        x1: torch.Tensor,
        x2: torch.Tensor,
        aux_loss: str = "relative",
        change_weight: float = 0.0,
    ) -> dict[str, torch.Tensor]:
        """Training pass on a batch of pairs: h(x1, x1, x2, x1) ≈ x2 plus the two helper terms.

        ``change_weight`` λ weighs each pixel's error in the optimised scene term by
        1 + λ·max_c |x2 − x1| (normalised to mean 1 per batch): what moved counts more.
        The logged "scene" term is always the plain MSE.
        ``aux_loss`` "relative" makes L_equiv and L_inv scale-invariant (:func:`relative_mse`);
        "plain" is the paper's plain L2. Returns the loss terms (float32 scalars), the feature
        scales of f_c and f_b (logged to show whether they collapse), the reconstruction, theta."""
        n = x1.shape[0]
        zc = self.f_c(torch.cat([x1, x2]))
        zb = self.f_b(torch.cat([x1, x2]))
        zc1, zc2 = zc[:n], zc[n:]
        zb1, zb2 = zb[:n], zb[n:]
        # T^Z of the pair and of frame 1 against itself, in one batch: a frame compared with
        # itself shows no motion, so the second should be the identity (L_ident)
        thetas = self.transform(torch.cat([zc1, zc1]), torch.cat([zc2, zc1]))
        theta, still = thetas[:n], thetas[n:]
        moved = warp(zc1, theta)
        recon = self.g(moved + zb1)
        if aux_loss == "relative":
            equiv = relative_mse(moved, zc2)
            inv = 0.5 * (relative_mse(zb1, zb2) + relative_mse(zb2, zb1))
        else:
            equiv = F.mse_loss(moved.float(), zc2.float())
            inv = F.mse_loss(zb1.float(), zb2.float())
        err = (recon.float() - x2.float()).pow(2)
        terms = {"scene": err.mean()}
        if change_weight:
            w = 1 + change_weight * (x2.float() - x1.float()).abs().amax(dim=1, keepdim=True)
            terms["objective"] = (err * w).mean() / w.mean()
        return {
            **terms,
            "equiv": equiv,
            "inv": inv,
            "ident": (still.float() - identity_theta(n, still.device)).pow(2).mean(),
            "fc_scale": feature_scale(zc.detach()),
            "fb_scale": feature_scale(zb.detach()),
            "recon": recon,
            "theta": theta,
        }


def identity_theta(n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    return torch.tensor(IDENTITY_THETA, device=device).view(1, 2, 3).expand(n, 2, 3).contiguous()


def total_loss(
    terms: dict[str, torch.Tensor], alpha_equiv: float, alpha_inv: float, alpha_ident: float = 0.0
) -> torch.Tensor:
    scene = terms.get("objective", terms["scene"])
    loss = scene + alpha_equiv * terms["equiv"] + alpha_inv * terms["inv"]
    return loss + alpha_ident * terms["ident"] if alpha_ident else loss
