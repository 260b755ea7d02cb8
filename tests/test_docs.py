"""The docs a new clinic reads point inside the repository: docs/DEFINITIONS.md, never a file it does not have."""

import subprocess
import sys

from paths import REPO

from analysis.settings import Settings


def test_every_pointer_to_the_definitions_goes_to_docs_definitions():
    """README, settings.toml, the code and the pages name docs/DEFINITIONS.md; OUTCOMES.md is not in the repo."""
    assert (REPO / "docs" / "DEFINITIONS.md").exists() and not (REPO / "OUTCOMES.md").exists()
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    shipped = [
        REPO / name
        for name in listed.split()
        if not name.startswith("tests/") and name.endswith((".py", ".md", ".toml", ".txt"))
    ]
    pointing_outside = [str(p.relative_to(REPO)) for p in shipped if p.exists() and "OUTCOMES.md" in p.read_text()]
    assert pointing_outside == []
    assert "docs/DEFINITIONS.md" in (REPO / "README.md").read_text()
    assert "docs/DEFINITIONS.md" in (REPO / "settings.toml").read_text()
    assert "docs/DEFINITIONS.md" in Settings().source


def test_report_help_names_docs_definitions():
    run = subprocess.run(
        [sys.executable, "-m", "analysis", "report", "--help"], cwd=REPO, capture_output=True, text=True
    )
    assert run.returncode == 0
    assert "docs/DEFINITIONS.md" in run.stdout and "OUTCOMES.md" not in run.stdout
