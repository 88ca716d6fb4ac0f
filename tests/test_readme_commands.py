"""The README's commands are the ones that work: CI runs exactly the README's test command."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT


def _commands(text: str) -> list[str]:
    return [
        line.strip() for line in text.splitlines() if line.strip().startswith("python3 -m venv")
    ]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = _commands((ROOT / "README.md").read_text(encoding="utf-8"))
    ci = _commands((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert len(ci) == 1, ci
    assert ci[0] in readme, f".ci/run runs {ci[0]!r}, which the README does not show: {readme}"


def test_the_test_command_installs_every_distribution_in_the_tree() -> None:
    (ci,) = _commands((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    installed = set(re.findall(r"-e (\S+)", ci))
    distributions = {
        str(path.parent.relative_to(ROOT))
        for pattern in ("adapters/*/pyproject.toml", "fakes/*/pyproject.toml")
        for path in ROOT.glob(pattern)
    }
    assert distributions <= installed, (
        f"not installed by the test command: {distributions - installed}"
    )


def test_pytest_collects_every_distribution_in_the_tree() -> None:
    """Each adapter and fake is its own ``testpaths`` entry: its ``tests/conftest.py`` is
    then loaded at start-up, the only place pytest reads ``pytest_plugins`` from."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    testpaths = set(config["tool"]["pytest"]["ini_options"]["testpaths"])
    distributions = {
        str(path.parent.relative_to(ROOT))
        for pattern in ("adapters/*/pyproject.toml", "fakes/*/pyproject.toml")
        for path in ROOT.glob(pattern)
    }
    assert distributions <= testpaths, f"not collected: {distributions - testpaths}"
