"""course_utils: the helper package of the deep learning course.

Each name here is introduced, written out by hand first, in a chapter notebook; the module
docstrings say which. Import what a cell needs: ``from course_utils import fit, record``.
"""
from .batches import LengthBatches, MapBatches, TensorBatches
from .bert import encode_sentences, load_minilm, mean_pool, tokenize
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .compare import Comparison, compare
from .competition import Competition
from .data import DATASETS, DataSplits, dataset_available, list_datasets, load_dataset, load_text
from .exercises import check_function, check_prediction, check_project, check_tensor, check_value, note_prediction, show_scorecard
from .explain import grad_cam, heatmap, integrated_gradients, occlusion, rank_correlation, saliency
from .history import History
from .metrics import ShapeMismatchError, accuracy, binary_accuracy
from .models import hog_features, imagenet_classes, load_mobilenet_v2, make_digit_cnn, preprocess_imagenet
from .plot import new_figure, plot_curves, plot_history, show_images
from .prose import prose
from .repro import course_version, environment_report, get_device, is_headless, seed_everything
from .repro import limit_blas_threads as _limit_blas_threads
from .results import read_results, record, smoke_mode, use_smoke_mode
from .sections import skip_unless
from .sources import ChecksumError, DataSourceError
from .tables import load_bioactivity, load_ratings, load_sentiment, load_series
from .text import CharLSTM, CharVocab, char_windows, generate, nats_to_bits, split_text
from .train import NonFiniteLossError, evaluate, fit, predict
from .widgets import explore

_limit_blas_threads()   # NumPy's and SciPy's BLAS on one thread, measured faster here (COURSE_BLAS_THREADS=auto to opt out)

__version__ = "0.1.0"

__all__ = [
    # batches and data
    "DATASETS", "ChecksumError", "DataSourceError", "DataSplits", "LengthBatches", "MapBatches", "TensorBatches",
    "dataset_available", "list_datasets", "load_bioactivity", "load_dataset", "load_ratings", "load_sentiment", "load_series", "load_text",
    # training
    "CheckpointError", "History", "NonFiniteLossError", "ShapeMismatchError", "accuracy", "binary_accuracy",
    "evaluate", "fit", "load_checkpoint", "predict", "save_checkpoint",
    # models, text and explanations
    "CharLSTM", "CharVocab", "char_windows", "encode_sentences", "generate", "grad_cam", "heatmap", "hog_features",
    "imagenet_classes", "integrated_gradients", "load_minilm", "load_mobilenet_v2", "make_digit_cnn", "mean_pool",
    "nats_to_bits", "occlusion", "preprocess_imagenet", "rank_correlation", "saliency", "split_text", "tokenize",
    # reproducibility, results, comparisons, figures, widgets, exercises
    "Comparison", "Competition", "compare", "prose",
    "check_function", "check_prediction", "check_project", "check_tensor", "check_value", "note_prediction",
    "show_scorecard", "environment_report", "explore", "get_device", "is_headless",
    "new_figure", "plot_curves", "plot_history", "read_results", "record", "seed_everything", "show_images",
    "smoke_mode", "use_smoke_mode", "course_version", "skip_unless",
]
