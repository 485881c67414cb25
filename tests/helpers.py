"""Small helpers shared by tests that wait on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]


def wait_until(probe: Callable[[], T], *, timeout: float = 20, interval: float = 0.1, message: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def start_cli(*args: str, env: dict[str, str] | None = None, log_name: str | None = None) -> subprocess.Popen:
    """Start `pharmacy-saas ARGS` with this test process's environment (database, Redis)."""
    (ROOT / ".data").mkdir(exist_ok=True)
    log = open(ROOT / ".data" / f"{log_name}.log", "w") if log_name else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "pharmacy-saas"), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
