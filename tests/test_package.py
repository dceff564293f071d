"""The helper package keeps its conventions: small typed modules, docstrings, no hidden tricks."""
import ast
import importlib
import inspect
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "course_utils").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_module_conventions(name):
    path = ROOT / "course_utils" / f"{name}.py"
    source = path.read_text()
    tree = ast.parse(source)
    module = importlib.import_module(f"course_utils.{name}")
    assert len(source.splitlines()) <= 400, f"{name}.py is over 400 lines: split it by concern"
    assert "Introduced in" in (ast.get_docstring(tree) or ""), f"{name}.py: say which chapter introduces it"
    assert isinstance(module.__all__, list) and module.__all__
    for public in module.__all__:
        obj = getattr(module, public)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__, f"{name}.{public} has no docstring"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("exec", "eval"), f"{name}.py calls {node.func.id}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("sys", "inspect"):
            assert node.attr not in ("_getframe", "stack", "currentframe"), f"{name}.py inspects stack frames"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.returns is not None or node.name == "__init__", f"{name}.{node.name} lacks a return type"
            for default in node.args.defaults + node.args.kw_defaults:
                assert not isinstance(default, (ast.List, ast.Dict, ast.Set)), f"{name}.{node.name}: mutable default"


def test_public_api_is_exported():
    import course_utils
    for name in course_utils.__all__:
        assert hasattr(course_utils, name)


def test_dependency_ranges_admit_colab_and_pins_satisfy_them():
    """pyproject keeps ranges that Colab's preinstalled packages satisfy; requirements.txt pins inside them."""
    deps = {Requirement(d).name: Requirement(d) for d in
            tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    colab = {"torch": "2.11.0", "ipywidgets": "7.7.1", "numpy": "2.0.2", "matplotlib": "3.10.0",
             "pandas": "2.2.2", "scikit-learn": "1.6.1", "tqdm": "4.67.1", "ipython": "7.34.0",
             "scikit-image": "0.25.2", "scipy": "1.16.3", "threadpoolctl": "3.6.0"}
    for name, version in colab.items():
        assert deps[name].specifier.contains(version), f"Colab's {name} {version} is outside {deps[name]}"
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            pins[req.name] = next(iter(req.specifier)).version
    for name, req in deps.items():
        assert req.specifier.contains(pins[name]), f"pinned {name}=={pins[name]} is outside {req}"


@pytest.mark.parametrize("name", MODULES)
def test_functions_are_short(name):
    """One idea per function: no body over 60 lines besides its docstring (complexity over 15 is ruff's C901)."""
    tree = ast.parse((ROOT / "course_utils" / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            length = (body[-1].end_lineno - body[0].lineno + 1) if body else 0
            assert length <= 60, f"{name}.{node.name} has {length} lines of code: split it into named steps"


def test_plotting_does_not_import_the_training_loop():
    tree = ast.parse((ROOT / "course_utils" / "plot.py").read_text())
    runtime = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]   # not under TYPE_CHECKING
    assert not [n for n in runtime if isinstance(n, ast.ImportFrom) and n.module in ("train", "evaluation")]


def _top_level_imports(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_import_is_declared():
    """What course_utils and the chapters import is a declared dependency (or an extra), never just present."""
    import importlib.metadata
    import json
    import sys

    from packaging.utils import canonicalize_name
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(Requirement(d).name) for d in project["dependencies"]}
    declared |= {canonicalize_name(Requirement(d).name) for extra in project["optional-dependencies"].values()
                 for d in extra}
    modules = set()
    for path in (ROOT / "course_utils").glob("*.py"):
        modules |= _top_level_imports(path.read_text())
    for path in (ROOT / "notebooks").glob("[0-9]*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                modules |= _top_level_imports("".join(cell["source"]))
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(modules - set(sys.stdlib_module_names) - {"course_utils", "google"}):
        names = {canonicalize_name(d) for d in distributions.get(module, [module])}
        if not names & declared:
            missing[module] = sorted(names)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
