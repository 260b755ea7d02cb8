"""What the browser tests share: `streamlit run dashboard.py` on a free port, and Debian's chromium to visit it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from paths import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def require_chromium() -> None:
    """Skip the calling test module without chromium; on CI a missing chromium is an error, never a skip."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("CI must install Debian's chromium for the browser test (.ci/run does).")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def launch_chromium(playwright):
    """Debian's chromium under Playwright, headless, with nothing that calls home."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """streamlit run dashboard.py on a free port, with the given secrets file (or none) and roles file."""

    def __init__(
        self,
        db: Path,
        address: str = "127.0.0.1",
        secrets: Path | None = None,
        roles: Path | None = None,
        port: int | None = None,
    ):
        self.port = port or free_port()
        self.address = address
        env = dict(os.environ, OUTCOMES_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
        if roles:
            env["OUTCOMES_ROLES"] = str(roles)
        command = [
            sys.executable, "-m", "streamlit", "run", "dashboard.py",
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", address,
            "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        # A secrets file outside the repo; an empty list of files means no secrets at all.
        command += ["--secrets.files", str(secrets or db.parent / "no-secrets.toml")]
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url()}_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        print(self.stop())
        raise RuntimeError("streamlit did not start within 60 s")

    def url(self, path: str = "") -> str:
        return f"http://{self.address}:{self.port}/{path}"

    def stop(self) -> str:
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output or ""


def wait_until_quiet(page, seconds: float) -> None:
    """Wait until Streamlit has shown neither its status widget nor a skeleton (an element still to come)
    for 1.5 s, or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    quiet_since = None
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.5:
            break
        page.wait_for_timeout(250)
