"""Project hooks from each source: [tool.ductwork], --hooks, settings.py and plugins."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.conftest import BASE, calls, run_cli, runner_params

HOOKS = Path(__file__).with_name("hooks_template.py")
NODES = ["make", "double", "add", "report", "stats.mean"]


@pytest.fixture
def hooked(project: Path) -> Path:
    shutil.copy(HOOKS, project / "proj_hooks.py")
    return project


def hook_log(project: Path) -> list[str]:
    path = project / "hooks.log"
    return sorted(path.read_text().split()) if path.exists() else []


def expected(*sources: str) -> list[str]:
    return sorted(f"{source}:{node}" for source in sources for node in NODES)


def install_plugin(site: Path, monkeypatch: pytest.MonkeyPatch, name: str = "fakeplugin") -> None:
    """A distribution declaring ``proj_hooks:plugin`` in the ``ductwork.hooks`` group."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ductwork.hooks]\nrecorder = proj_hooks:plugin\n")
    monkeypatch.setenv("PYTHONPATH", str(site))


@pytest.mark.parametrize("runner", runner_params("sequential", "thread", "parallel"))
def test_hooks_from_pyproject_and_the_command_line(hooked: Path, runner: str) -> None:
    (hooked / "pyproject.toml").write_text('[tool.ductwork]\nhooks = ["proj_hooks:ProjectHooks"]\n')
    result = run_cli(
        hooked,
        "run",
        "proj:pipeline",
        *BASE,
        "--runner",
        runner,
        "--hooks",
        "proj_hooks:CommandLineHooks",
    )
    assert result.returncode == 0, result.stderr
    assert hook_log(hooked) == expected("project", "cli")


def test_hooks_of_installed_plugins_and_disabling_one(
    hooked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path / "site", monkeypatch)
    result = run_cli(hooked, "run", "proj:pipeline", *BASE)
    assert result.returncode == 0, result.stderr
    assert hook_log(hooked) == expected("plugin")
    (hooked / "hooks.log").unlink()
    (hooked / "pyproject.toml").write_text(
        '[tool.ductwork]\ndisable_hooks_for_plugins = ["fakeplugin"]\n'
    )
    result = run_cli(hooked, "run", "proj:pipeline", *BASE)
    assert result.returncode == 0, result.stderr
    assert hook_log(hooked) == []


def test_hooks_from_a_kedro_shaped_settings_module(hooked: Path) -> None:
    package = hooked / "src" / "proj_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        "from proj_hooks import SettingsHooks\nHOOKS = (SettingsHooks(),)\n"
    )
    (hooked / "pyproject.toml").write_text(
        '[tool.ductwork]\npackage_name = "proj_pkg"\nsource_dir = "src"\n'
    )
    result = run_cli(hooked, "run", "proj:pipeline", *BASE)
    assert result.returncode == 0, result.stderr
    assert hook_log(hooked) == expected("settings")


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("proj_hooks:Misspelt", "method 'after_nod_run' is marked as a hook"),
        ("proj_hooks:Nowhere", "'proj_hooks' has no 'Nowhere'"),
        ("no_such_module:Hooks", "cannot import 'no_such_module'"),
    ],
)
def test_bad_hooks_stop_the_run_before_any_node(hooked: Path, spec: str, said: str) -> None:
    result = run_cli(hooked, "run", "proj:pipeline", *BASE, "--hooks", spec)
    assert result.returncode == 2
    assert f"--hooks {spec}" in result.stderr
    assert said in result.stderr
    assert calls(hooked) == []
