"""The Colab simulation's parts (tools/colab_sim.py, tools/colab_constraints.py, colab/): the constraints
generated from Colab's freeze, the clone its setup cells install from, and the kernel Colab's cells
recognise. `make test-colab` runs the whole simulation."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import colab_constraints  # noqa: E402
import colab_sim  # noqa: E402

FREEZE = """# Do not modify this file directly
ipywidgets==7.7.1
google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz
torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-manylinux_2_28_x86_64.whl
nvidia-nccl-cu13==2.31.2
triton==3.6.0
tifffile==2026.8.16
Jinja2==3.1.6
"""


def test_constraints_keep_colab_pins_and_say_what_they_removed():
    parsed = colab_constraints.parse_freeze(FREEZE)
    text = colab_constraints.render(parsed, commit="abc1234", date="2026-08-19", python="3.13.15", command="cmd")
    pins = [line for line in text.splitlines() if not line.startswith("#")]
    assert pins[0] == "ipywidgets==7.7.1" and "Jinja2==3.1.6" in pins
    assert 'tifffile==2026.8.16 ; python_version >= "3.12"' in pins  # Colab's, where it installs
    assert any(p.startswith("tifffile==") and p.endswith('python_version < "3.12"') for p in pins)
    assert not any(p.startswith(("torch", "google-colab", "nvidia", "triton")) for p in pins)
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert "commit abc1234 (2026-08-19)" in header and "Python 3.13.15" in header
    for gone in ("google-colab @", "torch @", "nvidia-nccl-cu13==2.31.2", "triton==3.6.0"):
        assert f"removed: {gone}" in header
    assert colab_sim.colab_versions_from(text) == {"ipywidgets": "7.7.1", "jinja2": "3.1.6", "tifffile": "2026.8.16",
                                                   "torch": "2.11.0+cpu", "nvidia-nccl-cu13": "2.31.2", "triton": "3.6.0"}


def test_committed_constraints_are_colab_s_and_cover_the_simulated_packages():
    colab = colab_sim.colab_versions()
    assert {k: colab[k] for k in ("ipywidgets", "ipykernel", "ipython", "torch")} == {
        "ipywidgets": "7.7.1", "ipykernel": "6.17.1", "ipython": "7.34.0", "torch": "2.11.0+cpu"}
    wanted = [line.split("#")[0].strip() for line in colab_sim.REQUIREMENTS.read_text().splitlines()]
    wanted = [w for w in wanted if w]
    assert "torch" not in wanted, "torch is installed apart (--torch)"
    assert [w for w in wanted if colab_sim.canonical(w) not in colab] == [], "Colab does not have these"
    freeze = ROOT.parent / "shared" / "colab" / "pip-freeze.txt"  # shared/ beside the checkout, where there is one
    if freeze.exists():
        command = colab_sim.CONSTRAINTS.read_text().splitlines()[3].split("#", 1)[1].split()
        args = command[command.index("--commit"):command.index(">")]
        regenerated = subprocess.run([sys.executable, str(ROOT / "tools" / "colab_constraints.py"), str(freeze), *args],
                                     capture_output=True, text=True, check=True).stdout
        assert regenerated == colab_sim.CONSTRAINTS.read_text(), "regenerate colab/constraints.txt (its header says how)"


def test_differences_name_every_version_that_is_not_colab_s():
    assert colab_sim.differences({"torch": "2.13.0+cpu", "numpy": "2.1.3", "overrides": "7.7.0"},
                                 {"torch": "2.11.0+cpu", "numpy": "2.1.3"}) == [
        "overrides 7.7.0 (not on Colab)", "torch 2.13.0+cpu (Colab: 2.11.0+cpu)"]


def git(*args, cwd):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_snapshot_commits_the_working_tree_and_the_address_is_redirected_to_it(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", cwd=work)
    (work / ".gitignore").write_text("ignored.txt\n")
    for name in ("kept.py", "changed.py", "deleted.py"):
        (work / name).write_text(f"{name} as committed\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "c", cwd=work)
    (work / "changed.py").write_text("changed in the working tree\n")
    (work / "deleted.py").unlink()
    (work / "new.py").write_text("not yet committed\n")
    (work / "ignored.txt").write_text("ignored\n")
    clone = tmp_path / "clone"
    commit = colab_sim.snapshot(clone, "v0.1.0", root=work)
    assert git("ls-tree", "-r", "--name-only", "v0.1.0", cwd=clone).split() == [".gitignore", "changed.py", "kept.py",
                                                                                "new.py"]
    assert git("show", "v0.1.0:changed.py", cwd=clone) == "changed in the working tree\n"
    env = {**os.environ, **colab_sim.kernel_env(tmp_path / "site", "https://github.com/o/course", clone)}
    remote = subprocess.run(["git", "ls-remote", "https://github.com/o/course", "v0.1.0"], env=env,
                            capture_output=True, text=True, check=True).stdout
    assert remote.split() == [commit, "refs/tags/v0.1.0"]


def test_the_kernel_is_colab_s_an_interactive_shell_with_google_colab_loaded(tmp_path, monkeypatch):
    """The simulated kernel (this venv's Python, Colab's kernel class): the setup cells' test and
    is_headless() see Colab."""
    from jupyter_client.manager import start_new_kernel

    colab_sim.install_kernel(tmp_path / "jupyter", Path(sys.prefix), {"PYTHONPATH": str(colab_sim.FAKE_COLAB)})
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    km, kc = start_new_kernel(kernel_name=colab_sim.KERNEL, startup_timeout=60)
    out = []
    try:
        kc.execute_interactive("import sys; from course_utils import is_headless; "
                               "print(type(get_ipython()).__module__, type(get_ipython()).__name__, "
                               "'google.colab' in sys.modules, is_headless())",
                               output_hook=lambda msg: out.append(msg["content"].get("text", "")), timeout=60)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert "".join(out).split() == ["google.colab._shell", "Shell", "True", "False"]


def test_build_only_builds_the_venv_with_the_commands_arguments_and_stops(monkeypatch, tmp_path, capsys):
    calls = []

    def fake_build(venv, python, torch, *, torch_deps, find_links):
        calls.append((venv, python, torch, torch_deps, find_links))
        return True
    monkeypatch.setattr(colab_sim, "build_venv", fake_build)
    monkeypatch.setattr(colab_sim, "prepare", lambda *a: (_ for _ in ()).throw(AssertionError("ran chapters")))
    assert colab_sim.main(["--build-only", "--venv", str(tmp_path / "v"), "--torch", "torch==2.13.0",
                           "--find-links", str(tmp_path)]) == 0
    assert calls == [((tmp_path / "v").resolve(), "python3", "torch==2.13.0", False, [str(tmp_path.resolve())])]
    assert "built" in capsys.readouterr().out

    def broken(*a, **k):
        raise colab_sim.SimError("pip install -r requirements.txt failed")
    monkeypatch.setattr(colab_sim, "build_venv", broken)
    assert colab_sim.main(["--build-only", "--venv", str(tmp_path / "v")]) == 2
    assert "pip install -r requirements.txt failed" in capsys.readouterr().err
