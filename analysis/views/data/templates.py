"""The blank templates and filled-in examples shipped in data/, and the mime type of each download."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.settings import REPO_ROOT

REFERENCE_FOLDERS = {"templates": "Blank templates", "examples": "Filled-in examples"}


def reference_files(root: Path | None = None) -> pd.DataFrame:
    """The template and example files shipped in data/templates and data/examples, whatever is there now."""
    root = Path(root) if root is not None else REPO_ROOT / "data"
    rows = []
    for folder, words in REFERENCE_FOLDERS.items():
        directory = root / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if (
                path.is_file()
                and not path.name.startswith(".")
                and path.suffix.lower() in (".csv", ".xlsx", ".md", ".txt")
            ):
                size = path.stat().st_size
                rows.append(
                    {
                        "group": words,
                        "name": path.name,
                        "size_bytes": size,
                        "path": str(path),
                        "label": f"{path.name} ({size / 1024:.0f} KB)"
                        if size >= 1024
                        else f"{path.name} ({size} bytes)",
                    }
                )
    return pd.DataFrame(rows, columns=["group", "name", "size_bytes", "path", "label"])


MIME_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".md": "text/markdown",
    ".txt": "text/plain",
}


def mime_type(name: str) -> str:
    """What the browser is told a download holds, by the file's suffix."""
    return MIME_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
