import json

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from course_utils import read_results, record
from course_utils.results import result_entry


def test_record_returns_plain_values(capsys):
    assert result_entry("acc", torch.tensor(0.75), smoke=True) == {"name": "acc", "value": 0.75, "smoke": True}
    assert result_entry("n", np.int64(3), smoke=False)["value"] == 3
    assert type(result_entry("n", np.int64(3), smoke=False)["value"]) is int
    assert result_entry("model", "cnn", smoke=False)["value"] == "cnn"
    value = torch.tensor(0.75)
    assert record("acc", value, smoke=True) is value            # returned unchanged: acc = record(...)
    assert "acc = 0.75  [smoke]" in capsys.readouterr().out


@pytest.mark.parametrize("bad, error", [
    (float("nan"), ValueError), (torch.ones(2), ValueError), ([1, 2], TypeError), (None, TypeError),
])
def test_record_rejects_what_is_not_a_result(bad, error):
    with pytest.raises(error):
        record("x", bad, smoke=True)


def test_record_rejects_bad_names():
    with pytest.raises(ValueError, match="letters, digits"):
        record("test accuracy", 1.0, smoke=True)


def test_record_in_a_kernel_writes_the_metadata_contract(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("from course_utils import record\n"
                                          "record('val_acc', 0.5, smoke=True)\nrecord('val_acc', 0.9, smoke=False)\n"
                                          "record('name', 'mlp', smoke=False)")]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    outputs = nb.cells[0].outputs
    assert outputs[0]["metadata"]["course_result"] == {"name": "val_acc", "value": 0.5, "smoke": True}
    assert read_results(path) == {"val_acc": {"name": "val_acc", "value": 0.9, "smoke": False},
                                  "name": {"name": "name", "value": "mlp", "smoke": False}}
    assert read_results(json.loads(path.read_text()))["name"]["value"] == "mlp"


def test_record_takes_its_smoke_flag_from_the_mode(monkeypatch, capsys):
    from course_utils import results
    monkeypatch.setattr(results, "_mode", {})
    monkeypatch.setenv("COURSE_SMOKE", "0")
    assert results.use_smoke_mode(False) is False
    record("acc", 0.5)
    assert "[smoke]" not in capsys.readouterr().out
    monkeypatch.setenv("COURSE_SMOKE", "1")             # how nbval runs: the env turns smoke on
    assert results.use_smoke_mode(False) is True and results.smoke_mode() is True
    record("acc", 0.5)
    assert "[smoke]" in capsys.readouterr().out
    with pytest.raises(TypeError, match="SMOKE must be True or False"):
        results.use_smoke_mode("False")                  # a string would silently be truthy


@pytest.mark.parametrize("name", [3, None, ("a",), b"acc"])
def test_record_refuses_names_that_are_not_strings(name):
    with pytest.raises(TypeError, match="name must be a string"):
        record(name, 1.0, smoke=True)


@pytest.mark.parametrize("name", ["", "1st", "acc-1", "accuracy é"])
def test_record_refuses_malformed_names(name):
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        record(name, 1.0, smoke=True)


def test_read_results_names_a_file_that_is_not_a_notebook(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not json at all")
    with pytest.raises(ValueError, match=r"notes\.txt is not a Jupyter notebook"):
        read_results(text)
    listing = tmp_path / "list.ipynb"
    listing.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"list\.ipynb is not a Jupyter notebook"):
        read_results(listing)
    binary = tmp_path / "model.pt"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match=r"model\.pt is not a Jupyter notebook"):
        read_results(binary)
    with pytest.raises(FileNotFoundError, match="missing.ipynb"):
        read_results(tmp_path / "missing.ipynb")
    with pytest.raises(ValueError, match="not a Jupyter notebook"):
        read_results({"cells": "nope"})
