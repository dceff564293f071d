"""course_utils: the helper package of the deep learning course.

Each name here is introduced, written out by hand first, in a chapter notebook; the module
docstrings say which. Import what a cell needs: ``from course_utils import fit, record``.
"""
from .bert import LengthBatches, encode_sentences, load_minilm, mean_pool, tokenize
from .checkpoint import load_checkpoint, save_checkpoint
from .data import (DATASETS, ChecksumError, DataSourceError, DataSplits, TensorBatches, list_datasets,
                   load_dataset, load_text)
from .frames import load_ratings, load_sentiment, load_series
from .explain import grad_cam, heatmap, integrated_gradients, occlusion, rank_correlation, saliency
from .exercises import check_function, check_tensor, check_value
from .metrics import ShapeMismatchError, accuracy, binary_accuracy
from .models import hog_features, imagenet_classes, load_mobilenet_v2, make_digit_cnn, preprocess_imagenet
from .plot import new_figure, plot_curves, plot_history, show_images
from .repro import environment_report, get_device, is_headless, seed_everything
from .results import read_results, record
from .text import CharLSTM, CharVocab, char_windows, generate, nats_to_bits, split_text
from .train import History, NonFiniteLossError, evaluate, fit, predict
from .widgets import explore

__version__ = "0.1.0"

__all__ = [
    "CharLSTM", "CharVocab", "LengthBatches", "encode_sentences", "load_minilm", "mean_pool", "tokenize", "DATASETS", "ChecksumError", "DataSourceError", "DataSplits", "History", "NonFiniteLossError",
    "ShapeMismatchError", "TensorBatches", "accuracy", "binary_accuracy", "check_function", "check_tensor",
    "check_value", "environment_report", "evaluate", "explore", "grad_cam", "heatmap", "integrated_gradients", "occlusion", "rank_correlation", "saliency", "fit", "get_device", "hog_features", "imagenet_classes", "is_headless",
    "list_datasets", "load_checkpoint", "load_dataset", "load_mobilenet_v2", "load_ratings", "load_sentiment", "load_series", "load_text", "make_digit_cnn", "new_figure", "plot_curves",
    "plot_history", "predict", "preprocess_imagenet", "read_results", "record", "save_checkpoint", "seed_everything",
    "show_images", "char_windows", "generate", "nats_to_bits", "split_text",
]
