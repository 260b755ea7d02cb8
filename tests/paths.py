"""Where the tests find the repository and the shared external files, wherever a test file sits."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXTERNAL = REPO.parent / "shared" / "external"
