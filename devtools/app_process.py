"""The production app (`reflex run --env prod --single-port`) on a port of its own, for the browser tests
and the page-load benchmark: the same build, environment and log, started and stopped one way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from devtools.reflex_lock import align_web_dir
from devtools.services import ROOT

BUN = ROOT / ".tools/node_modules/bun/bin/bun.exe"


class AppProcess:
    """A started app; `stop()` ends its whole process group."""

    def __init__(self, process: subprocess.Popen, log: IO[str], log_path: Path) -> None:
        self.process, self._log, self.log_path = process, log, log_path

    def exited(self) -> bool:
        return self.process.poll() is not None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
        self._log.close()


def start_app(url: str, name: str, extra_env: dict[str, str] | None = None) -> AppProcess:
    """Build and start the app serving `url`; its web build lives in .data/web-<name>, its log in
    .data/<name>-app.log. Telemetry and version checks are off: nothing reaches the internet."""
    web_dir = ROOT / ".data" / f"web-{name}"
    env = {
        **os.environ,
        "APP_URL": url,
        "REFLEX_BUN_PATH": str(BUN),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_WEB_WORKDIR": str(web_dir),
        "REFLEX_STATES_WORKDIR": str(ROOT / ".data" / f"states-{name}"),
        "GRANIAN_WORKERS": "1",
        **(extra_env or {}),
    }
    (ROOT / ".data").mkdir(exist_ok=True)
    align_web_dir(web_dir)  # so the build does not rewrite the committed reflex.lock/
    log_path = ROOT / ".data" / f"{name}-app.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed by AppProcess.stop
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod", "--single-port"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return AppProcess(process, log, log_path)
