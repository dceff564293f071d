"""compare(): per-arm means and 95% intervals over seeds, and a verdict that noise alone does not produce."""
import math
import random

import pytest
from matplotlib.figure import Figure
from scipy import stats

from course_utils.compare import compare, interval


def noisy(mean, sd, offset=0):
    return lambda seed: random.Random(seed + offset).gauss(mean, sd)


def test_interval_is_students_t():
    values = [0.91, 0.905, 0.92, 0.899]
    mean, low, high = interval(values)
    ref = stats.t.interval(0.95, len(values) - 1, loc=sum(values) / 4, scale=stats.sem(values))
    assert mean == pytest.approx(sum(values) / 4) and (low, high) == pytest.approx(ref)
    assert math.isnan(interval([1.0])[1]) and interval([2.0, 2.0])[1:] == (2.0, 2.0)
    with pytest.raises(ValueError):
        interval([])


def test_a_clear_difference_is_found_either_way_round():
    c = compare(noisy(0.90, 0.002), noisy(0.80, 0.002, 99), seeds=3, names=("CNN", "MLP"), metric="accuracy",
                progress=False)
    assert c.verdict == "CNN better" and c.seeds == (0, 1, 2) and len(c.a.values) == 3
    assert c.a.low < c.a.mean < c.a.high < 0.95 and "CNN: accuracy 0.9" in str(c) and "3 seed(s): CNN better" in str(c)
    loss = compare(noisy(0.3, 0.01), noisy(0.5, 0.01, 99), seeds=[5, 6, 7], names=("new", "old"), metric="loss",
                   higher_is_better=False, progress=False)
    assert loss.verdict == "new better" and loss.seeds == (5, 6, 7)


def test_noise_alone_gives_no_clear_difference():
    c = compare(noisy(0.5, 0.05), noisy(0.5, 0.05, 1000), seeds=5, progress=False)
    assert c.verdict == "no clear difference"
    false_alarms = sum(compare(noisy(0.5, 0.05, 10 * r), noisy(0.5, 0.05, 10 * r + 5000), seeds=3,
                               progress=False).verdict != "no clear difference" for r in range(300))
    assert false_alarms <= 15, f"{false_alarms} of 300 same-distribution comparisons called a winner"


def test_one_seed_is_undetermined():
    c = compare(lambda s: 0.9, lambda s: 0.1, seeds=1, progress=False)
    assert c.verdict == "undetermined" and "interval" not in str(c)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"seeds": 0}, ValueError, "positive count or distinct seeds"),
    ({"seeds": [1, 1]}, ValueError, "distinct seeds"),
    ({"seeds": 2, "names": ("x", "x")}, ValueError, "two different names"),
])
def test_misuse_is_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        compare(lambda s: 1.0, lambda s: 2.0, progress=False, **kwargs)


def test_arms_must_return_finite_numbers():
    with pytest.raises(TypeError, match="arm 'B' returned dict"):
        compare(lambda s: 1.0, lambda s: {"acc": 1.0}, seeds=2, progress=False)
    with pytest.raises(ValueError, match="arm 'A' returned nan for seed 0"):
        compare(lambda s: math.nan, lambda s: 1.0, seeds=2, progress=False)
    with pytest.raises(TypeError, match="functions seed -> number"):
        compare(0.9, lambda s: 1.0, seeds=2, progress=False)


def test_figure_and_record(capsys):
    c = compare(noisy(0.9, 0.01), noisy(0.8, 0.01, 7), seeds=3, names=("ResNet", "plain CNN"), progress=False)
    fig = c.figure()
    assert isinstance(fig, Figure) and [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["ResNet", "plain CNN"]
    assert c.record("depth") is c
    out = capsys.readouterr().out
    assert "depth_seeds = 3" in out and "depth_verdict = ResNet better" in out and "depth_plain_cnn_mean = 0.79" in out


def test_paired_finds_a_small_consistent_gap_that_overlapping_intervals_miss():
    def mf(seed):                                       # the split moves both models together
        return random.Random(seed).gauss(0.85, 0.02)

    def ncf(seed):
        return mf(seed) + 0.01 + random.Random(seed + 77).gauss(0, 0.001)

    unpaired = compare(mf, ncf, seeds=4, names=("MF", "NCF"), metric="RMSE", higher_is_better=False, progress=False)
    paired = compare(mf, ncf, seeds=4, names=("MF", "NCF"), metric="RMSE", higher_is_better=False, paired=True,
                     progress=False)
    assert unpaired.verdict == "no clear difference" and unpaired.difference is None
    assert paired.verdict == "MF better" and paired.difference.mean == pytest.approx(-0.01, abs=0.002)
    assert "MF - NCF: RMSE -0.01" in str(paired) and "(paired)" in str(paired)
    assert compare(mf, ncf, seeds=1, paired=True, progress=False).verdict == "undetermined"
    noise = [compare(noisy(0.5, 0.05, 10 * r), noisy(0.5, 0.05, 10 * r + 5000), seeds=4, paired=True,
                     progress=False).verdict for r in range(200)]
    assert sum(v != "no clear difference" for v in noise) <= 20, "about 5% false alarms at the 95% level"


def test_paired_record_adds_the_mean_difference():
    from course_utils import results
    results._recorded.clear()
    compare(noisy(1, 0.1), noisy(2, 0.1, 9), seeds=3, names=("a", "b"), paired=True, progress=False).record("ab")
    assert set(results.recorded()) == {"ab_seeds", "ab_verdict", "ab_a_mean", "ab_b_mean", "ab_mean_difference"}
    results._recorded.clear()
