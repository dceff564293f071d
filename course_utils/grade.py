"""The grader: ``python -m course_utils.grade NOTEBOOK`` runs a learner's copy headless and prints a scorecard.

Every exercise is checked by a ``check_*`` call (:mod:`course_utils.exercises`), which prints one
line: ``[name] Correct! ...``, ``[name] Not yet: ...`` or ``[name] Not attempted yet. Hint: ...``.
The grader executes the notebook without its ``solution`` cells (they hold the answers), lets every
cell run even after one fails, and reads those lines from the cells' outputs. A cell tagged
``exercise`` that prints no check line is reported with its error, or as not checked. No server,
no database: the scorecard goes to the terminal (and, with ``--json``, to a file).

Introduced in notebooks/00_getting_started.ipynb, exercises.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["ExerciseResult", "output_text", "scorecard", "grade_notebook", "format_scorecard", "add_wrong_answers", "main"]

CHECK_LINE = re.compile(r"^\[(?P<name>[^\]\n]+)\] (?P<status>Correct!|Not yet:|Not attempted yet\.|Noted:)(?P<rest>.*)$",
                        re.M)
STATUS = {"Correct!": "correct", "Not yet:": "not yet", "Not attempted yet.": "not attempted", "Noted:": "noted"}


@dataclass(frozen=True)
class ExerciseResult:
    """One exercise on the scorecard: its name, ``correct``/``not yet``/``not attempted``/``error``, and the message."""
    name: str
    status: str
    message: str


def _text(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        text = output.get("data", {}).get("text/plain", "")
    return text if isinstance(text, str) else "".join(text)


def output_text(outputs: list[dict[str, Any]]) -> str:
    """The text of a cell's outputs, one output after another. A stream continues the stream before it (a
    line can be split between two writes); any other output, such as a progress bar that a frontend saved
    without a final newline, starts and ends a line of its own, so a check line after it stays a line."""
    text, last = "", None
    for output in outputs:
        stream = output.get("name") if output.get("output_type") == "stream" else None
        if text and not text.endswith("\n") and (stream is None or stream != last):
            text += "\n"
        text += _text(output)
        last = stream
    return text


def _tags(cell: dict[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def scorecard(nb: dict[str, Any], *, with_solutions: bool = False) -> list[ExerciseResult]:
    """The scorecard of an executed notebook: the last check line of each exercise, in order of first appearance.

    ``solution`` cells are ignored, unless ``with_solutions`` (each comes after the cells it answers, so
    its check line is the last word: the scorecard of a copy with the solutions filled in). A cell
    tagged ``exercise`` without a check line counts as
    ``error`` when it raised, else as ``not attempted`` (nothing checked it).
    """
    results: dict[str, ExerciseResult] = {}
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code" or ("solution" in _tags(cell) and not with_solutions):
            continue
        outputs = cell.get("outputs", [])
        found = False
        for match in CHECK_LINE.finditer(output_text(outputs)):
            found = True
            results[match["name"]] = ExerciseResult(match["name"], STATUS[match["status"]], match["rest"].strip())
        if not found and "exercise" in _tags(cell):
            error = next((o for o in outputs if o.get("output_type") == "error"), None)
            name = f"cell {index}"
            results[name] = (ExerciseResult(name, "error", f"{error.get('ename')}: {error.get('evalue')}")
                             if error else ExerciseResult(name, "not attempted", "the cell printed no check"))
    return list(results.values())


def format_scorecard(results: list[ExerciseResult], title: str) -> str:
    """The scorecard as text: one line per exercise, then ``k of n correct``."""
    width = max([len(r.name) for r in results] + [8])
    lines = [f"Scorecard: {title}"]
    lines += [f"  {r.name:<{width}}  {r.status:<13}  {r.message}".rstrip() for r in results]
    correct = sum(r.status == "correct" for r in results)
    lines.append(f"{correct} of {len(results)} correct" if results else "no exercises found in this notebook")
    return "\n".join(lines)


def grade_notebook(path: Path, *, smoke: bool = True, timeout: int = 600,
                   with_solutions: bool = False) -> list[ExerciseResult]:
    """Execute ``path`` without its solution cells (every cell runs, errors or not) and return its scorecard.

    With ``with_solutions`` the solution cells run too and count: a teacher's check that every
    exercise can be solved (the scorecard is then all correct).

    Raises:
        ValueError: ``path`` is not a readable notebook (the message says why).
    """
    import nbclient
    import nbformat

    from .runner import client_options, headless_env, load_source
    source, problem = load_source(path)
    if source is None:
        raise ValueError(problem or f"{path} could not be read")
    nb = nbformat.reads(json.dumps(source), as_version=4)   # (joins each cell's list of lines)
    if not with_solutions:
        nb.cells = [c for c in nb.cells if "solution" not in c.get("metadata", {}).get("tags", [])]
    headless_env(smoke)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(path.resolve().parent)}},
                                     **client_options(timeout))
    client.execute()
    return scorecard(nb, with_solutions=with_solutions)


def add_wrong_answers(nb: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``nb`` with a plausible wrong answer before each solution cell that describes one.

    A solution cell's metadata ``wrong_answer`` is ``{"why": ..., "replace": [[old, new], ...]}``: the
    wrong answer is the solution's code with each ``old`` replaced by ``new`` and its asserts dropped,
    in a cell tagged ``wrong-answer``. Executed, that cell must print ``Not yet`` for the same exercise
    (the tests check every chapter this way).

    Raises:
        ValueError: a replacement's ``old`` text is not in its solution cell.
    """
    copy = json.loads(json.dumps(nb))
    cells: list[dict[str, Any]] = []
    for cell in copy.get("cells", []):
        wrong = cell.get("metadata", {}).get("wrong_answer") if "solution" in _tags(cell) else None
        if wrong:
            code = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for old, new in wrong["replace"]:
                if old not in code:
                    raise ValueError(f"wrong_answer of cell {cell.get('id')!r}: {old!r} is not in its code")
                code = code.replace(old, new)
            lines = code.splitlines()[1:] if code.startswith("# @title") else code.splitlines()
            code = "\n".join([f"# a plausible wrong answer: {wrong.get('why', '')}", *lines])
            cells.append({"cell_type": "code", "id": f"wrong-{cell.get('id', len(cells))}",
                          "metadata": {"tags": ["wrong-answer"]}, "outputs": [],
                          "execution_count": None, "source": re.sub(r"^(\s*)assert ", r"\1", code, flags=re.M)})
        cells.append(cell)
    copy["cells"] = cells
    return copy


def main(argv: list[str] | None = None) -> int:
    """The command line: grade one notebook, print its scorecard; 0 when graded, 2 for unusable input."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path, help="a learner's copy of a chapter")
    parser.add_argument("--full", action="store_true", help="full mode (default: smoke mode, quick)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--json", type=Path, help="also write the scorecard to this JSON file")
    parser.add_argument("--with-solutions", action="store_true",
                        help="run the solution cells too (a teacher's check: every exercise should be correct)")
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be at least 1 second, got {args.timeout}")
    try:
        results = grade_notebook(args.notebook, smoke=not args.full, timeout=args.timeout,
                                 with_solutions=args.with_solutions)
    except ValueError as err:
        print(f"grade: {err}", file=sys.stderr)
        return 2
    print(format_scorecard(results, args.notebook.name))
    if args.json:
        try:
            args.json.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n", encoding="utf-8")
        except OSError as err:
            print(f"grade: cannot write {args.json}: {err.strerror or err}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
