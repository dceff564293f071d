"""course_utils.explain: each explanation method checked on a model whose right answer is known."""
import math

import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from course_utils.explain import grad_cam, heatmap, integrated_gradients, occlusion, rank_correlation, saliency


def small_cnn(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 8 * 8, 5)).eval()


class CornerModel(nn.Module):
    """Scores depend only on the top-left 4x4 pixels: class 0 = their sum, class 1 = minus it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x[:, :, :4, :4].sum(dim=(1, 2, 3))
        return torch.stack([s, -s], dim=1)


def test_saliency_of_linear_model_is_its_weight_row():
    torch.manual_seed(0)
    lin = nn.Linear(12, 4)
    x = torch.randn(3, 12)
    sal = saliency(lin, x, target=2)
    assert sal.shape == x.shape
    torch.testing.assert_close(sal, lin.weight[2].detach().expand(3, 12))
    per_example = saliency(lin, x, target=torch.tensor([0, 1, 3]))
    torch.testing.assert_close(per_example, lin.weight.detach()[[0, 1, 3]])
    assert lin.weight.grad is None, "explanations must not touch parameter gradients"


def test_integrated_gradients_completeness():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3)).eval()
    x, base = torch.randn(4, 10), torch.randn(4, 10) * 0.1
    attr = integrated_gradients(model, x, target=1, baseline=base, steps=64, batch_size=16)
    assert attr.shape == x.shape
    with torch.no_grad():
        gap = model(x)[:, 1] - model(base)[:, 1]
    torch.testing.assert_close(attr.sum(1), gap, atol=2e-3, rtol=1e-2)


def test_integrated_gradients_completeness_on_a_cnn_with_zero_baseline():
    model, x = small_cnn(), torch.rand(2, 1, 8, 8)
    attr = integrated_gradients(model, x, target=torch.tensor([0, 3]), steps=128)
    with torch.no_grad():
        gap = model(x)[[0, 1], [0, 3]] - model(torch.zeros_like(x))[[0, 1], [0, 3]]
    torch.testing.assert_close(attr.sum(dim=(1, 2, 3)), gap, atol=1e-2, rtol=2e-2)


def test_integrated_gradients_of_linear_model_is_exact():
    torch.manual_seed(2)
    lin = nn.Linear(6, 2)
    x = torch.randn(1, 6)
    attr = integrated_gradients(lin, x, target=0, steps=3)
    torch.testing.assert_close(attr, x * lin.weight[0].detach())


def test_grad_cam_shape_range_and_non_negativity():
    model, x = small_cnn(), torch.rand(3, 1, 8, 8)
    cam = grad_cam(model, model[3], x, target=torch.tensor([0, 1, 2]))
    assert cam.shape == (3, 8, 8)
    assert (cam >= 0).all() and (cam <= 1 + 1e-6).all()
    assert not model[3]._forward_hooks, "the hook must be removed"


def test_grad_cam_on_a_mobilenet_sized_map_upsamples():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=4, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4)).eval()
    cam = grad_cam(model, model[1], torch.rand(1, 3, 32, 32), target=1)
    assert cam.shape == (1, 32, 32) and (cam >= 0).all()


def test_occlusion_sees_only_the_region_the_model_uses():
    x = torch.rand(2, 1, 12, 12) + 0.5                     # positive pixels: occluding lowers class 0
    occ = occlusion(CornerModel(), x, target=0, patch=2, stride=2)
    assert occ.shape == (2, 12, 12)
    assert (occ[:, :4, :4] > 0).all()
    assert occ[:, 4:, :].abs().max() == 0 and occ[:, :, 4:].abs().max() == 0
    torch.testing.assert_close(occ[:, :2, :2].sum(dim=(1, 2)), x[:, 0, :2, :2].sum(dim=(1, 2)) * 4)
    assert (occlusion(CornerModel(), x, target=1, patch=2, stride=2)[:, :4, :4] < 0).all()


def test_rank_correlation_of_permutations_and_against_scipy():
    a = torch.randn(50)
    assert rank_correlation(a, a) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, a.exp()) == pytest.approx(1.0)              # monotone: same ranks
    perm = torch.randperm(50, generator=torch.Generator().manual_seed(0))
    b = a[perm]
    assert rank_correlation(a, b) == pytest.approx(spearmanr(a.numpy(), b.numpy())[0], abs=1e-9)
    ties = torch.tensor([[0.0, 0.0, 1.0], [2.0, 2.0, 3.0]])
    other = torch.tensor([[1.0, 0.0, 0.0], [5.0, 4.0, 4.0]])
    assert rank_correlation(ties, other) == pytest.approx(spearmanr(ties.flatten(), other.flatten())[0])
    assert math.isnan(rank_correlation(torch.ones(5), a[:5]))


def test_heatmap_takes_the_largest_absolute_channel():
    attr = torch.tensor([[[[1.0, -3.0]], [[-2.0, 0.5]]]])          # (1, 2, 1, 2)
    torch.testing.assert_close(heatmap(attr), torch.tensor([[[2.0, 3.0]]]))


def test_bad_shapes_and_arguments_raise_clear_errors():
    model, x = small_cnn(), torch.rand(1, 1, 8, 8)
    with pytest.raises(ValueError, match="batch dimension"):
        grad_cam(model, model[3], x[0], target=0)
    with pytest.raises(ValueError, match="batch dimension"):
        saliency(nn.Linear(3, 2), torch.rand(3), target=0)
    with pytest.raises(ValueError, match="target classes"):
        saliency(model, x, target=7)
    with pytest.raises(ValueError, match=r"\(1,\) tensor"):
        saliency(model, x, target=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="feature maps"):
        grad_cam(model, model[5], x, target=0)
    with pytest.raises(ValueError, match="not called"):
        grad_cam(model, nn.Conv2d(1, 1, 3), x, target=0)
    with pytest.raises(ValueError, match="patch"):
        occlusion(model, x, target=0, patch=9, stride=1)
    with pytest.raises(ValueError, match="broadcast"):
        integrated_gradients(model, x, target=0, baseline=torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match="same shape"):
        rank_correlation(torch.rand(4), torch.rand(5))
    with pytest.raises(ValueError, match="floating-point"):
        saliency(model, torch.ones(1, 1, 8, 8, dtype=torch.long), target=0)
