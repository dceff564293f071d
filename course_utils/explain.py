"""Explaining one decision of an image classifier: gradient saliency, integrated gradients, Grad-CAM,
occlusion, and a rank correlation to compare two explanation maps.

Every method answers "which input pixels mattered for the score of class ``target``?" for a batch of
inputs ``x`` of shape ``(B, C, H, W)`` (saliency and integrated gradients accept any ``(B, ...)``).
``target`` is one class index for the whole batch or a ``(B,)`` tensor of indices. The model is used
as it is (call ``model.eval()`` first); its parameters' gradients are never touched.

Introduced in notebooks/11a_challenges_data_compute_black_box.ipynb, section 11a.3.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["saliency", "integrated_gradients", "grad_cam", "occlusion", "rank_correlation", "heatmap"]

Target = int | torch.Tensor


def _check_batch(x: torch.Tensor, ndim: int | None = None) -> None:
    """Raise a clear ValueError unless ``x`` is a floating tensor with a batch dimension."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"x must be a floating-point tensor, got {type(x).__name__} "
                         f"{getattr(x, 'dtype', '')}")
    if x.ndim < 2 or (ndim is not None and x.ndim != ndim):
        want = "(B, C, H, W)" if ndim == 4 else "(B, ...) with a batch dimension"
        raise ValueError(f"x must have shape {want}, got {tuple(x.shape)}; add a batch dimension "
                         "with x[None] for a single input")


def _scores(logits: torch.Tensor, target: Target) -> torch.Tensor:
    """The ``(B,)`` scores ``logits[i, target[i]]`` of ``(B, K)`` logits, with range checks."""
    if logits.ndim != 2:
        raise ValueError(f"the model must return (B, K) logits, got shape {tuple(logits.shape)}")
    B, K = logits.shape
    t = torch.as_tensor(target, device=logits.device).long().reshape(-1)
    if t.numel() == 1:
        t = t.expand(B)
    if t.shape != (B,):
        raise ValueError(f"target must be an int or a ({B},) tensor, got shape {tuple(t.shape)}")
    if (t < 0).any() or (t >= K).any():
        raise ValueError(f"target classes must lie in [0, {K - 1}], got {t.tolist()}")
    return logits.gather(1, t[:, None])[:, 0]


def _target_of(target: Target, start: int, stop: int) -> Target:
    """The part of a per-example ``target`` for examples ``start:stop`` (an int stays as it is)."""
    t = torch.as_tensor(target).reshape(-1)
    return target if t.numel() == 1 else t[start:stop]


def saliency(model: nn.Module, x: torch.Tensor, target: Target) -> torch.Tensor:
    """Gradient saliency (Simonyan et al., 2014): the gradient of the target score w.r.t. the input.

    Args:
        model: maps ``(B, ...)`` inputs to ``(B, K)`` logits.
        x: inputs ``(B, ...)``, e.g. images ``(B, C, H, W)``.
        target: class index (int) or ``(B,)`` tensor of class indices.

    Returns:
        signed gradients ``d score / d x``, same shape as ``x``. For a linear model
        ``x @ W.T + b`` it is the weight row ``W[target]``. Use :func:`heatmap` to plot it.
    """
    _check_batch(x)
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        score = _scores(model(x), target).sum()   # examples are independent: one backward for all
        (grad,) = torch.autograd.grad(score, x)
    return grad


def integrated_gradients(model: nn.Module, x: torch.Tensor, target: Target, baseline: torch.Tensor | None = None,
                         steps: int = 32, batch_size: int = 64) -> torch.Tensor:
    """Integrated gradients (Sundararajan et al., 2017) along the straight path from a baseline to ``x``.

    ``IG_i = (x_i - b_i) * mean_k grad_i(b + a_k (x - b))`` with ``steps`` midpoints ``a_k`` in (0, 1).
    Completeness: ``IG.sum()`` approaches ``f(x) - f(baseline)`` for the target score as ``steps`` grows.

    Args:
        model: maps ``(B, ...)`` inputs to ``(B, K)`` logits.
        x: inputs ``(B, ...)``.
        target: class index (int) or ``(B,)`` tensor of class indices.
        baseline: the "absence of signal", same shape as ``x`` or broadcastable to it (default zeros).
        steps: number of points on the path (Riemann midpoint rule).
        batch_size: path points evaluated per forward pass (memory versus speed).

    Returns:
        attributions with the same shape as ``x``.
    """
    _check_batch(x)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    base = torch.zeros_like(x) if baseline is None else torch.as_tensor(baseline, dtype=x.dtype, device=x.device)
    try:
        base = base.expand_as(x)
    except RuntimeError:
        raise ValueError(f"baseline of shape {tuple(base.shape)} does not broadcast to x {tuple(x.shape)}") from None
    alphas = (torch.arange(steps, dtype=x.dtype, device=x.device) + 0.5) / steps   # (steps,)
    total = torch.zeros_like(x)
    for i in range(x.shape[0]):                     # one example at a time, its path points in chunks
        xi, bi = x[i:i + 1], base[i:i + 1]          # (1, ...)
        for a in alphas.split(batch_size):
            path = bi + a.view(-1, *[1] * (x.ndim - 1)) * (xi - bi)    # (chunk, ...)
            total[i] += saliency(model, path, _target_of(target, i, i + 1)).sum(0)
    return (x - base) * total / steps


def grad_cam(model: nn.Module, layer: nn.Module, x: torch.Tensor, target: Target) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al., 2017): a conv layer's feature maps weighted by their mean gradient.

    ``cam = relu(sum_k w_k A_k)`` with ``w_k`` the spatial mean of ``d score / d A_k``, upsampled
    (bilinear) to the input size and divided by its maximum, so each map lies in ``[0, 1]``.

    Args:
        model: maps ``(B, C, H, W)`` images to ``(B, K)`` logits.
        layer: a module inside ``model`` whose output is ``(B, channels, h, w)`` (usually the last
            convolution block); read through a forward hook that is removed afterwards.
        x: images ``(B, C, H, W)``.
        target: class index (int) or ``(B,)`` tensor of class indices.

    Returns:
        non-negative maps ``(B, H, W)``, each with maximum 1 (or all zeros).
    """
    _check_batch(x, ndim=4)
    seen: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _inp, out: seen.append(out))
    try:
        with torch.enable_grad():
            logits = model(x.detach().clone().requires_grad_(True))
            if not seen:
                raise ValueError("layer was not called by model(x): pass a submodule of model")
            acts = seen[-1]
            if not isinstance(acts, torch.Tensor) or acts.ndim != 4:
                shape = tuple(acts.shape) if isinstance(acts, torch.Tensor) else type(acts).__name__
                raise ValueError(f"layer must output (B, channels, h, w) feature maps, got {shape}")
            (grads,) = torch.autograd.grad(_scores(logits, target).sum(), acts)
    finally:
        handle.remove()
    weights = grads.mean(dim=(2, 3), keepdim=True)                        # (B, channels, 1, 1)
    cam = F.relu((weights * acts).sum(1, keepdim=True)).detach()          # (B, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]   # (B, H, W)
    peak = cam.flatten(1).amax(1).clamp_min(1e-12).view(-1, 1, 1)         # (B, 1, 1)
    return cam / peak


def occlusion(model: nn.Module, x: torch.Tensor, target: Target, patch: int, stride: int,
              fill: float = 0.0, batch_size: int = 64) -> torch.Tensor:
    """Occlusion sensitivity (Zeiler & Fergus, 2014): how much the target score drops when a square
    patch of the image (all channels) is replaced by ``fill``.

    Args:
        model: maps ``(B, C, H, W)`` images to ``(B, K)`` logits.
        x: images ``(B, C, H, W)``.
        target: class index (int) or ``(B,)`` tensor of class indices.
        patch: side of the square patch in pixels; stride: step between patch positions.
        fill: value written into the patch (0 = black for [0, 1] images, the mean for normalised ones).
        batch_size: occluded copies per forward pass.

    Returns:
        ``(B, H, W)``: each pixel gets the mean score drop over all patches that cover it (0 where
        no patch does). Positive values mark evidence for the target class.
    """
    _check_batch(x, ndim=4)
    B, _, H, W = x.shape
    if not (0 < patch <= min(H, W)) or stride < 1:
        raise ValueError(f"need 0 < patch <= {min(H, W)} and stride >= 1, got patch={patch}, stride={stride}")
    corners = [(r, c) for r in range(0, H - patch + 1, stride) for c in range(0, W - patch + 1, stride)]
    drop, count = torch.zeros(B, H, W), torch.zeros(1, H, W)
    with torch.no_grad():
        clean = _scores(model(x), target).cpu()                            # (B,)
        for i in range(B):
            t = _target_of(target, i, i + 1)
            for start in range(0, len(corners), batch_size):
                chunk = corners[start:start + batch_size]
                copies = x[i:i + 1].repeat(len(chunk), 1, 1, 1)            # (chunk, C, H, W)
                for k, (r, c) in enumerate(chunk):
                    copies[k, :, r:r + patch, c:c + patch] = fill
                scores = _scores(model(copies), t).cpu()                   # (chunk,)
                for k, (r, c) in enumerate(chunk):
                    drop[i, r:r + patch, c:c + patch] += clean[i] - scores[k]
                    if i == 0:
                        count[0, r:r + patch, c:c + patch] += 1
    return drop / count.clamp_min(1)


def heatmap(attributions: torch.Tensor) -> torch.Tensor:
    """Collapse attributions ``(B, C, H, W)`` to ``(B, H, W)`` for plotting: the largest absolute
    value over channels (Simonyan et al.'s convention for colour images).

    Args:
        attributions: ``(B, C, H, W)`` (e.g. from :func:`saliency`); ``(B, H, W)`` is returned as ``abs``.

    Returns:
        non-negative ``(B, H, W)``.
    """
    if attributions.ndim == 3:
        return attributions.abs()
    if attributions.ndim != 4:
        raise ValueError(f"expected (B, C, H, W) or (B, H, W), got {tuple(attributions.shape)}")
    return attributions.abs().amax(dim=1)


def _ranks(v: torch.Tensor) -> torch.Tensor:
    """1-based ranks of a 1-D tensor, ties sharing their average rank (as scipy's ``rankdata``)."""
    sorted_v, order = v.sort()
    _, inverse, counts = torch.unique_consecutive(sorted_v, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).double()
    group_rank = ends - (counts.double() - 1) / 2           # average rank of each run of ties
    ranks = torch.empty(len(v), dtype=torch.float64, device=v.device)
    ranks[order] = group_rank[inverse]
    return ranks


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's rank correlation between two maps of the same shape (flattened), ties averaged.

    Args:
        a, b: tensors of equal shape with at least 2 elements, e.g. two ``(H, W)`` heatmaps.

    Returns:
        a float in ``[-1, 1]``: 1 when both order the pixels the same way, about 0 when unrelated;
        ``nan`` when either map is constant (it ranks nothing).
    """
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
        raise ValueError("a and b must be tensors")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.numel() < 2:
        raise ValueError(f"need at least 2 values to rank, got {a.numel()}")
    ra, rb = _ranks(a.detach().flatten().double()), _ranks(b.detach().flatten().double())
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = (ra.norm() * rb.norm()).item()
    return float("nan") if denom == 0 else float((ra @ rb).item() / denom)
