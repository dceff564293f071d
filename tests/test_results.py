import json

import numpy as np
import pytest
import torch
from nbclient import NotebookClient
import nbformat

from course_utils import read_results, record
from course_utils.results import result_entry


def test_record_returns_plain_values(capsys):
    assert result_entry("acc", torch.tensor(0.75), smoke=True) == {"name": "acc", "value": 0.75, "smoke": True}
    assert result_entry("n", np.int64(3), smoke=False)["value"] == 3
    assert type(result_entry("n", np.int64(3), smoke=False)["value"]) is int
    assert result_entry("model", "cnn", smoke=False)["value"] == "cnn"
    assert record("acc", torch.tensor(0.75), smoke=True) is None
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
