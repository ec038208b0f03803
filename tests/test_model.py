import pytest
import torch

from engine.model import (
    IDENTITY_THETA,
    ModelConfig,
    SceneModel,
    feature_scale,
    relative_mse,
    total_loss,
    warp,
)


@pytest.mark.parametrize("size", [64, 128, 48])
def test_shapes(size):
    cfg = ModelConfig(image_size=size)
    model = SceneModel(cfg)
    x = torch.rand(2, 3, size, size)
    z = model.f_c(x)
    assert z.shape == (2, cfg.latent_channels, size // 4, size // 4)
    assert model.f_b(x).shape == z.shape
    img, theta = model.render(x, x, x.flip(0), x.flip(0))
    assert img.shape == x.shape and theta.shape == (2, 2, 3)
    assert img.min() >= 0 and img.max() <= 1
    assert model.render_background(x).shape == x.shape
    assert model.render_character(x).shape == x.shape
    terms = model(x, x.flip(0))
    assert terms["recon"].shape == x.shape
    for k in ("scene", "equiv", "inv"):
        assert terms[k].ndim == 0 and torch.isfinite(terms[k])


def test_bad_image_size():
    with pytest.raises(ValueError, match="multiple of 16"):
        ModelConfig(image_size=40)


def test_transformation_is_identity_at_init():
    model = SceneModel(ModelConfig(image_size=32))
    x1, x2 = torch.rand(3, 3, 32, 32), torch.rand(3, 3, 32, 32)
    theta = model.transformation(model.f_c(x1), model.f_c(x2))
    assert torch.equal(theta, torch.tensor(IDENTITY_THETA).view(1, 2, 3).expand(3, 2, 3))
    z = model.f_c(x1)
    torch.testing.assert_close(warp(z, theta), z, atol=1e-5, rtol=0)


def test_transformation_depends_on_order():
    torch.manual_seed(0)
    model = SceneModel(ModelConfig(image_size=32))
    torch.nn.init.normal_(model.transform.head.weight, std=0.1)
    z1, z2 = torch.randn(2, 64, 8, 8), torch.randn(2, 64, 8, 8)
    assert not torch.allclose(model.transformation(z1, z2), model.transformation(z2, z1))


def test_warp_convention_translation():
    """theta's last column is −t for content moved by +t (normalised units): module docstring."""
    z = torch.zeros(1, 1, 8, 8)
    z[0, 0, 2, 2] = 1.0
    shift = 2 / 8 * 3  # three cells to the right
    theta = torch.tensor([[[1.0, 0, -shift], [0, 1.0, 0]]])
    moved = warp(z, theta)
    assert moved[0, 0, 2, 5] == pytest.approx(1.0)


def test_auxiliary_losses_ignore_feature_scale_offset_and_junk_channels():
    torch.manual_seed(0)
    a, b = torch.randn(4, 8, 6, 6), torch.randn(4, 8, 6, 6)
    base = relative_mse(a, b)
    assert relative_mse(a * 0.01, b * 0.01) == pytest.approx(base.item(), rel=1e-4)
    assert relative_mse(a + 100.0, b + 100.0) == pytest.approx(base.item(), rel=1e-3)
    assert feature_scale(b + 100.0) == pytest.approx(feature_scale(b).item(), rel=1e-3)
    # one channel blown up 1000x (unpredictable junk) does not dilute the others' errors
    a2, b2 = a.clone(), b.clone()
    a2[:, 0] *= 1000
    b2[:, 0] = torch.randn(4, 6, 6) * 1000
    close = relative_mse(b2 + 0.01 * torch.randn_like(b2), b2)
    assert close < 0.01
    assert relative_mse(a2, b2) == pytest.approx(base.item(), rel=0.3)


def test_losses_are_logged_separately_and_combine():
    model = SceneModel(ModelConfig(image_size=32))
    x = torch.rand(2, 3, 32, 32)
    terms = model(x, x.flip(0))
    total = total_loss(terms, 0.5, 0.25)
    expected = terms["scene"] + 0.5 * terms["equiv"] + 0.25 * terms["inv"]
    assert torch.allclose(total, expected)
    assert terms["fc_scale"] > 0 and terms["fb_scale"] > 0


def test_change_weight_counts_what_moved_more():
    torch.manual_seed(0)
    model = SceneModel(ModelConfig(image_size=16, widths=(8,), latent_channels=8, res_blocks=1))
    x1 = torch.full((2, 3, 16, 16), 0.5)
    x2 = x1.clone()
    x2[:, :, 4:8, 4:8] = 0.0  # something dark moved in
    plain = model(x1, x2)
    assert "objective" not in plain
    weighted = model(x1, x2, change_weight=10.0)
    w = torch.ones(2, 1, 16, 16)
    w[:, :, 4:8, 4:8] = 6.0  # 1 + 10 · 0.5
    err = (weighted["recon"] - x2) ** 2
    assert torch.allclose(weighted["objective"], (err * w).mean() / w.mean())
    assert torch.allclose(weighted["scene"], err.mean())  # the logged term stays plain MSE
    assert total_loss(weighted, 0, 0) == weighted["objective"]
    same = model(x1, x1, change_weight=10.0)  # nothing moved: the weights are all 1
    assert torch.allclose(same["objective"], same["scene"])


def test_ident_term_is_zero_at_init_and_measures_the_still_motion():
    torch.manual_seed(0)
    model = SceneModel(ModelConfig(image_size=16, widths=(8,), latent_channels=8, res_blocks=1))
    x1, x2 = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    assert model(x1, x2)["ident"] == 0  # T^Z starts at the identity for every pair
    with torch.no_grad():
        model.transform.head.bias.copy_(torch.tensor([1.2, 0.0, 0.1, 0.0, 1.2, 0.0]))
        terms = model(x1, x2)
    assert float(terms["ident"]) == pytest.approx((0.2**2 * 2 + 0.1**2) / 6)
    base = total_loss(terms, 0.0, 0.01)
    assert float(total_loss(terms, 0.0, 0.01, alpha_ident=2.0)) == pytest.approx(
        float(base + 2.0 * terms["ident"])
    )
