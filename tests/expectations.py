"""What each chapter must record, and the range each recorded value must fall in.

``EXPECTATIONS[notebook][result] = (smoke_range, full_range)``; a range is ``(low, high)`` with
``None`` for no bound, or a set of allowed strings. Smoke ranges are loose sanity checks (a loss
that fell, a sane accuracy); full ranges are the chapter's stated results, checked against the
committed outputs of ``make execute``. Every chapter notebook needs an entry here.
"""
from __future__ import annotations

from typing import Any

Range = "tuple[float | None, float | None] | set[str]"

DEVICES = {"cpu", "cuda", "mps"}
CATS = {"Egyptian cat", "tabby", "tiger cat"}
MODELS_01 = {"pixels + logistic regression", "HOG + logistic regression", "MLP", "CNN"}

EXPECTATIONS: dict[str, dict[str, tuple[Any, Any]]] = {
    "00_getting_started": {
        "device": (DEVICES, DEVICES),
        "seeded_draws_max_abs_diff": ((0, 0), (0, 0)),
        "matvec_max_abs_diff": ((0, 1e-5), (0, 1e-5)),
        "autograd_max_abs_error": ((0, 1e-12), (0, 1e-12)),
        "finite_diff_max_abs_error": ((1e-9, 1e-6), (1e-9, 1e-6)),
        "finite_diff_best_h": ((1e-7, 1e-4), (1e-7, 1e-4)),
        "finite_diff_best_error": ((1e-12, 1e-8), (1e-12, 1e-8)),
        "die_max_freq_error": ((0, 0.025), (0, 0.0025)),
        "lln_slope": ((-0.6, -0.4), (-0.55, -0.45)),
        "lln_error_over_theory_at_n_max": ((0.6, 1.4), (0.8, 1.2)),
        "digits_max_class_freq_error": ((0, 0.03), (0, 0.03)),
        "cross_entropy_by_hand": ((2.03, 2.04), (2.03, 2.04)),
        "cross_entropy_abs_diff": ((0, 1e-5), (0, 1e-5)),
        "matvec_loops_over_at": ((50, None), (50, None)),
        "matmul_device_speedup": ((0.3, None), (0.3, None)),
        "g_deepest_valley_x": ((-0.75, -0.65), (-0.75, -0.65)),
        "gd_final_x_lr_0p1": ((2.07, 2.09), (2.07, 2.09)),
        "gd_last_step_lr_0p9": ((0.1, None), (0.1, None)),
        "max_stable_lr": ((0.50, 0.52), (0.50, 0.52)),
    },
    "01_what_is_deep_learning": {
        "pixels_logreg_test_acc": ((0.6, 1), (0.90, 0.95)),
        "hog_logreg_test_acc": ((0.7, 1), (0.96, 0.985)),
        "cnn_test_acc": ((0.25, 1), (0.98, 0.995)),
        "cnn_loss_first_10_steps": ((2.0, 2.5), (2.0, 2.5)),
        "cnn_loss_last_10_steps": ((0, 2.2), (0, 0.2)),
        "cnn_vs_hog_error_ratio": ((0, None), (1.3, None)),
        "mlp_test_acc": ((0.3, 1), (0.955, 0.98)),
        "untrained_cnn_features_logreg_test_acc": ((0.3, 1), (0.75, 0.88)),
        "learned_cnn_features_logreg_test_acc": ((0.3, 1), (0.98, 1)),
        "probe_acc_pixels": ((0.5, 1), (0.88, 0.92)),
        "probe_acc_block1": ((0.5, 1), (0.94, 0.97)),
        "probe_acc_block2": ((0.5, 1), (0.97, 0.99)),
        "probe_acc_hidden": ((0.5, 1), (0.98, 0.995)),
        "probe_acc_untrained_hidden": ((0.3, 1), (0.7, 0.9)),
        "curve_slope_pixels": ((-2, 2), (-0.30, -0.12)),
        "curve_slope_cnn": ((-2, 2), (-0.55, -0.35)),
        "curve_last_gain_cnn": ((0, None), (1.1, None)),
        "curve_acc_n100_hog": ((0.2, 1), (0.80, 0.90)),
        "curve_best_model_smallest_n": (MODELS_01, {"HOG + logistic regression"}),
        "curve_best_model_largest_n": (MODELS_01, {"CNN"}),
    },
    "02_neurons_and_activations": {
        "neuron_vs_linear_max_abs_diff": ((0, 1e-6), (0, 1e-6)),
        "activations_max_abs_diff": ((0, 1e-5), (0, 1e-5)),
        "softmax_jacobian_max_abs_diff": ((0, 1e-6), (0, 1e-6)),
        "sigmoid_max_derivative": ((0.249, 0.25), (0.249, 0.25)),
        "sigmoid_saturated_fraction_init_x10": ((0.35, 0.5), (0.35, 0.5)),
        "dead_relu_bias_minus_2": ((40, 80), (40, 80)),
        "dead_units_grad_relu": ((0, 0), (0, 0)),
        "best_neuron_accuracy_xor": ((0.7, 0.8), (0.7, 0.8)),
        "xor_linear_accuracy": ((0, 0.8), (0.2, 0.75)),
        "xor_hidden_accuracy": ((0.8, 1), (0.95, 1)),
        "xor_hidden_test_loss": ((0, 0.5), (0, 0.1)),
        "layer_loop_vs_matmul_max_abs_diff": ((0, 1e-5), (0, 1e-5)),
        "xor_net_parameters": ((17, 17), (17, 17)),
        "mlp_784_parameters_counted": ((109386, 109386), (109386, 109386)),
        "uat_mse_width_32": ((0, 2), (0, 1e-3)),
        "uat_mse_ratio_narrowest_over_widest": ((1, None), (100, None)),
    },
    "03_training_a_network": {
        "simplenn_parameters": ((551, 551), (551, 551)),
        "n_train": ((370, 370), (370, 370)),
        "hand_vs_fit_loss_max_abs_diff": ((0, 0), (0, 0)),
        "hand_vs_fit_weight_max_abs_diff": ((0, 0), (0, 0)),
        "backprop_by_hand_max_abs_error": ((0, 1e-15), (0, 1e-15)),
        "finite_diff_grad_max_abs_error": ((0, 1e-8), (0, 1e-8)),
        "simplenn_finite_diff_max_abs_error": ((0, 1e-8), (0, 1e-8)),
        "bce_loss_at_logit_40": ((99.9, 100.1), (99.9, 100.1)),
        "bce_with_logits_loss_at_logit_40": ((39.99, 40.01), (39.99, 40.01)),
        "bce_grad_at_logit_40": ((0, 0), (0, 0)),
        "bce_with_logits_grad_at_logit_40": ((0.999, 1.001), (0.999, 1.001)),
        "opt_final_train_loss_adam": ((0, 0.8), (0.04, 0.1)),
        "gd_highest_loss_lr_100": ((1e6, None), (1e6, None)),
        "dead_units_fraction_lr_10": ((0.5, 1), (0.8, 1)),
        "overfit_train_loss": ((0, 0.7), (0, 0.01)),
        "overfit_final_val_loss": ((0, 1), (0.3, None)),
        "early_stopping_val_loss": ((0, 0.7), (0.08, 0.2)),
        "simplenn_test_accuracy": ((0.5, 1), (0.93, 1)),
        "logreg_test_accuracy": ((0.85, 0.95), (0.85, 0.95)),
        "logreg_largest_coef_feature": ({"mean concave points", "mean concavity"}, {"mean concave points", "mean concavity"}),
        "radius_perimeter_correlation": ((0.99, 1), (0.99, 1)),
    },
    "04_convolutional_networks": {
        "dense_params_224": ((1605664, 1605664), (1605664, 1605664)),
        "conv_max_abs_diff": ((0, 1e-5), (0, 1e-5)),
        "mnist_cnn_test_accuracy": ((0.2, 1), (0.990, 1)),
        "mnist_mlp_test_accuracy": ((0.2, 1), (0.965, 0.99)),
        "fashion_cnn_test_accuracy": ((0.2, 1), (0.90, 0.93)),
        "cnn_shift2_unchanged": ((0.2, 1), (0.88, 0.99)),
        "mlp_shift2_unchanged": ((0.2, 1), (0.65, 0.9)),
        "aug_small_plain_accuracy": ((0.05, 1), (0.90, 0.96)),
        "aug_small_augmented_accuracy": ((0.05, 1), (0.925, 0.97)),
        "chelsea_top1": (CATS, CATS),
        "transfer_pretrained_accuracy": ((0.1, 1), (0.72, 0.92)),
        "transfer_scratch_accuracy": ((0, 1), (0.25, 0.70)),
    },
}


def check(value: Any, allowed: Any) -> bool:
    """Whether ``value`` lies in ``allowed`` (a (low, high) range or a set of strings)."""
    if isinstance(allowed, set):
        return value in allowed
    low, high = allowed
    if isinstance(value, str) or isinstance(value, bool):
        return False
    return (low is None or value >= low) and (high is None or value <= high)
