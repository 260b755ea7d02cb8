"""Where the tests find the repository and the shared external files, wherever a test file sits."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTERNAL = REPO.parent / "shared" / "external"


def external(*parts: str) -> Path:
    """A file of ../shared/external; skipped where shared/ is absent, but on CI (which keeps it) a failure."""
    path = EXTERNAL.joinpath(*parts)
    if not path.exists():
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{path} is not here (CI keeps shared/ beside the repo)")
    return path
