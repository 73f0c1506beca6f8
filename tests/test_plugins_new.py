"""``goalengine plugins new`` writes a skeleton whose tests pass; ``plugins install`` and
``uninstall`` run pip in goalengine's own interpreter (tested in a throwaway environment)."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import time
import venv
from pathlib import Path

from click.testing import CliRunner

from goalengine_cli.main import cli


def new(tmp_path: Path, name: str) -> Path:
    result = CliRunner().invoke(cli, ["--json", "plugins", "new", name, "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["files"] == [
        "README.md",
        "pyproject.toml",
        f"src/goalengine_{name.replace('-', '_')}/__init__.py",
        f"tests/test_goalengine_{name.replace('-', '_')}.py",
    ]
    return Path(created["path"])


def pytest_in(
    root: Path, python: str = sys.executable, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env}
    environ.pop("GOALENGINE_PLUGINS", None)
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, env=environ, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_new_plugin_s_own_tests_pass(tmp_path: Path) -> None:
    started = time.monotonic()
    root = new(tmp_path, "sleep-hygiene")
    assert (root / "pyproject.toml").read_text().count('sleep-hygiene = "goalengine_sleep_hygiene"')
    done = pytest_in(root, PYTHONPATH=str(root / "src"))
    assert done.returncode == 0, done.stdout + done.stderr
    # Discovery needs an install (see the next test); the rest runs from source.
    assert "3 passed, 1 skipped" in done.stdout
    assert time.monotonic() - started < 120


def test_plugins_new_refuses_bad_names_and_existing_directories(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["plugins", "new", "Sleep_Hygiene", "--dir", str(tmp_path)])
    assert bad.exit_code == 2
    assert "use lower-case letters, digits and single hyphens" in bad.stderr
    new(tmp_path, "sleep")
    again = runner.invoke(cli, ["plugins", "new", "sleep", "--dir", str(tmp_path)])
    assert again.exit_code == 2
    assert again.stderr.startswith(f"Error: {tmp_path / 'goalengine-sleep'} already exists")


def test_plugins_uninstall_refuses_goalengine_itself() -> None:
    result = CliRunner().invoke(cli, ["plugins", "uninstall", "goalengine"])
    assert result.exit_code == 2
    assert "refusing to uninstall goalengine itself" in result.stderr


def test_install_a_new_plugin_then_it_is_discovered_then_uninstall(tmp_path: Path) -> None:
    """The whole author's loop in a fresh environment that sees this goalengine."""
    started = time.monotonic()
    root = new(tmp_path, "sleep")
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # The fresh environment sees the packages (and the editable goalengine) of this one.
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "outer.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in ours)
    )
    goalengine = [python, "-c", "from goalengine_cli.main import cli; cli()"]
    env = {k: v for k, v in os.environ.items() if k != "GOALENGINE_PLUGINS"}
    store = ["--store", "memory://"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*goalengine, *store, *args], env=env, capture_output=True, text=True, timeout=300,
            check=False,
        )  # fmt: skip

    installed = run("plugins", "install", str(root))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    listed = {p["name"]: p for p in json.loads(run("--json", "plugins", "list").stdout)}
    assert listed["sleep"]["status"] == "ok"
    assert listed["sleep"]["version"] == "0.1.0"
    assert listed["sleep"]["source"] == "entry point of goalengine-sleep"
    done = pytest_in(root, python)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout  # discovery included
    print(f"plugins new -> installed -> tests passing: {time.monotonic() - started:.1f}s")
    removed = run("--json", "plugins", "uninstall", "goalengine-sleep")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["packages"] == ["goalengine-sleep"]  # pip's talk: stderr
    listed = {p["name"] for p in json.loads(run("--json", "plugins", "list").stdout)}
    assert "sleep" not in listed
    failed = run("plugins", "install", str(tmp_path / "no-such-dir"))
    assert failed.returncode == 3
    assert "pip install failed" in failed.stderr
