"""Google Colab's preinstalled packages as a pip constraints file, for `make test-colab`.

Colab publishes what its runtime has preinstalled (``pip freeze``) in the public repository
googlecolab/backend-info. This script turns that list into ``colab/constraints.txt``:

    python tools/colab_constraints.py pip-freeze.txt --commit a724079 --date 2026-08-19 \
        --python 3.13.15 > colab/constraints.txt

It keeps every ``name==version`` pin and removes, saying so in the file's header:

* pins to a file or an address (``name @ file://...``, ``name @ https://...``): Colab's own builds,
  torch among them, which pip cannot fetch by version;
* ``nvidia-*``, ``cuda-*`` and ``triton``: the GPU libraries of CUDA builds;

and keeps the pins in ``NOT_ON_PY311`` (versions that do not install on Python 3.11, the Python of
the CI simulation) for Python >= 3.12 only, with the newest release that installs on 3.11 in their
place there (environment markers): one file serves the CI simulation (Python 3.11) and the exact
stack (Python 3.13).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

__all__ = ["NOT_ON_PY311", "Constraints", "parse_freeze", "render", "main"]

# name -> (why Colab's version cannot install on Python 3.11, the newest release that does), found by
# resolving colab/requirements.txt under these constraints with Python 3.11 (`pip install --dry-run`);
# add a line here when a new freeze brings another
NOT_ON_PY311: dict[str, tuple[str, str]] = {
    "tifffile": ("Requires-Python >=3.12", "2026.3.3"),
}
PY311 = 'python_version < "3.12"'
PY312 = 'python_version >= "3.12"'

GPU = re.compile(r"^(nvidia-|cuda-|triton$)", re.IGNORECASE)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
URL_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*(\S+)$")
URL_VERSION = re.compile(r"-(\d[^-/]*?)(?:%2B|\+)(\w+)-")  # torch-2.11.0%2Bcpu-cp313 -> 2.11.0, cpu


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): lower case, runs of ``-_.`` as ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Constraints:
    """What a Colab freeze becomes: the pins kept, and each line removed with the reason."""

    def __init__(self) -> None:
        self.pins: dict[str, str] = {}              # canonical name -> "name==version" as Colab writes it
        self.removed: list[tuple[str, str]] = []    # (the freeze's line, reason)
        self.replaced: list[tuple[str, str]] = []   # (Colab's pin, why) for NOT_ON_PY311


def parse_freeze(text: str) -> Constraints:
    """Sort the lines of a ``pip freeze`` into kept pins and removed lines (see the module's docstring)."""
    out = Constraints()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        url = URL_PIN.match(line)
        if url:
            found = URL_VERSION.search(url.group(2))
            what = f"Colab's build {found.group(1)}+{found.group(2)}" if found else "Colab's own build"
            out.removed.append((f"{url.group(1)} @ {url.group(2)}", f"a file or URL pin ({what})"))
            continue
        pin = PIN.match(line)
        if not pin:
            raise ValueError(f"not a pip freeze line: {line!r}")
        name = pin.group(1)
        if GPU.match(name):
            out.removed.append((line, "a GPU (CUDA) library"))
        elif canonical(name) in NOT_ON_PY311:
            why, newest = NOT_ON_PY311[canonical(name)]
            out.replaced.append((line, f"{why}; on Python 3.11 {name}=={newest}, its newest release there"))
            out.pins[canonical(name)] = f"{line} ; {PY312}\n{name}=={newest} ; {PY311}"
        else:
            out.pins[canonical(name)] = line
    return out


def render(constraints: Constraints, *, commit: str, date: str, python: str, command: str) -> str:
    """The constraints file: a header saying where it comes from and what was removed, then the pins."""
    head = [
        "# Google Colab's preinstalled packages (CPU runtime) as pip constraints: `pip install -c` this file.",
        f"# Source: pip-freeze.txt of github.com/googlecolab/backend-info, commit {commit} ({date}),",
        f"# Colab's Python {python}. Generated, do not edit; regenerate with",
        f"#   {command}",
        "# Removed from the freeze (the simulation's differences from Colab are listed in README.md, \"On Colab\"):",
    ]
    for line, reason in constraints.removed:
        head.append(f"#   removed: {line}  -- {reason}")
    head.append("# Kept for Python >= 3.12 only, because they cannot install on Python 3.11 (the CI simulation's):")
    for line, reason in constraints.replaced:
        head.append(f"#   {line}  -- {reason}")
    return "\n".join(head + sorted(constraints.pins.values(), key=str.lower)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("freeze", type=Path, help="Colab's pip-freeze.txt")
    parser.add_argument("--commit", required=True, help="the backend-info commit the freeze comes from")
    parser.add_argument("--date", required=True, help="that commit's date (YYYY-MM-DD)")
    parser.add_argument("--python", required=True, help="Colab's Python version then (backend-info's os-info.txt)")
    args = parser.parse_args(argv)
    try:
        constraints = parse_freeze(args.freeze.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        print(f"colab_constraints: {err}", file=sys.stderr)
        return 2
    command = (f"python tools/colab_constraints.py {args.freeze.name} --commit {args.commit} --date {args.date} "
               f"--python {args.python} > colab/constraints.txt")
    sys.stdout.write(render(constraints, commit=args.commit, date=args.date, python=args.python, command=command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
