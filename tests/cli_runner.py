"""Running the real `portal` command in a subprocess against the test database and storage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PORTAL = Path(sys.executable).with_name("portal")


def portal_command(*args: str) -> list[str]:
    """The installed console script if there is one, else the same entry point through Python."""
    if PORTAL.exists():
        return [str(PORTAL), *args]
    return [sys.executable, "-m", "portal.cli", *args]


def run_portal(*args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 120):
    """Run ``portal ARGS`` with the test environment (PORTAL_* set by tests/environment.py)."""
    return subprocess.run(
        portal_command(*args),
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
