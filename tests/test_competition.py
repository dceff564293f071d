"""The offline competition: scores on a public and a private half, an append-only leaderboard, clear errors."""
import numpy as np
import pytest
import torch

from course_utils.competition import COLUMNS, Competition, default_leaderboard


@pytest.fixture
def comp(tmp_path):
    y = np.arange(20) % 4
    return Competition("toy", y, 4, seed=0, leaderboard=tmp_path / "board.csv"), y


def test_public_and_private_halves_score_what_they_should(comp):
    c, y = comp
    assert len(c) == 20
    assert c.score(y) == (1.0, 1.0)
    assert c.score(torch.tensor((y + 1) % 4)) == (0.0, 0.0)
    wrong_public = y.copy()
    wrong_public[c._public] = (y[c._public] + 1) % 4          # every public answer wrong, every private right
    assert c.score(wrong_public) == (0.0, 1.0)
    assert c.score(y.astype(float)) == (1.0, 1.0)               # whole numbers stored as floats are fine
    mask = c.public_mask()
    assert mask.sum() == 10 and (mask == c._public).all()
    mask[:] = False                                             # a copy: the competition's halves stay
    assert c._public.sum() == 10


def test_the_leaderboard_is_appended_once_per_distinct_submission_and_ranks_best_per_team(comp):
    c, y = comp
    assert c.rows() == []
    worse = y.copy()
    worse[:5] = (worse[:5] + 1) % 4
    first = c.submit(worse, team="ada", entry="baseline")
    assert "ada / baseline: public" in str(first)
    c.submit(worse, team="ada", entry="baseline")               # the same again: recorded once
    c.submit(y, team="ada", entry="tuned")
    c.submit(worse, team="bob", entry="mlp")
    rows = c.rows()
    assert len(rows) == 3 and list(rows[0]) == list(COLUMNS)
    table = c.standings()
    assert list(table["team"]) == ["ada", "bob"] and table.loc[1, "entry"] == "tuned" and table.index.name == "rank"
    assert list(c.standings(private=True)["team"])[0] == "ada"


@pytest.mark.parametrize("predictions, message", [
    (np.zeros((20, 4)), "a score per class"),
    (np.arange(19) % 4, "has 19 entries; the test set has 20"),
    (np.full(20, 4), "outside 0..3"),
    (np.full(20, 0.5), "whole-number class index"),
    (["a"] * 20, "whole-number class index"),
    (np.full(20, np.nan), "whole-number class index"),
    (object(), "whole-number class index"),
])
def test_bad_predictions_say_what_is_wrong_and_save_nothing(comp, predictions, message):
    c, _ = comp
    with pytest.raises((ValueError, TypeError), match=message):
        c.submit(predictions, team="ada", entry="x")
    assert not c.leaderboard_file.exists()


@pytest.mark.parametrize("team, entry", [("", "x"), ("a,b", "x"), ("a", "two\nlines"), (3, "x")])
def test_bad_names_are_refused(comp, team, entry):
    c, y = comp
    with pytest.raises(ValueError, match="without commas or line breaks"):
        c.submit(y, team=team, entry=entry)


def test_a_file_that_is_not_a_leaderboard_is_refused_and_left_as_it_is(comp):
    c, y = comp
    c.leaderboard_file.write_text("my notes, not a leaderboard\n")
    with pytest.raises(ValueError, match="not a leaderboard of this course"):
        c.submit(y, team="ada", entry="x")
    assert c.leaderboard_file.read_text() == "my notes, not a leaderboard\n"


def test_bad_competitions_are_refused_and_the_default_file_follows_the_cache_dir(tmp_path, monkeypatch):
    for name in ("", "a/b", 3):
        with pytest.raises(ValueError, match="short word"):
            Competition(name, [0, 1], 2)
    with pytest.raises(ValueError, match="at least 2 test labels"):
        Competition("x", [0], 2)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    assert default_leaderboard("digits") == tmp_path / "leaderboards" / "digits.csv"
    assert Competition("digits", [0, 1], 2).leaderboard_file == tmp_path / "leaderboards" / "digits.csv"
