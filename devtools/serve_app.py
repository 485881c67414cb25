"""Serve the app that the last `reflex run --env prod --single-port` built, without building it again.

`make run` restarts the app server's main process with this after it died: `reflex run` compiles the
pages and rebuilds the frontend on every start (one to two minutes on a small machine), which would
turn the crash of a process that only watches its workers into an outage. This does what `reflex run`
does once its build is finished (`_run_prod` in reflex/reflex.py, Reflex 0.10.1, pinned): the same
environment for the server and its workers, then `run_backend_prod` with the built frontend mounted.
It must run from the project folder, after a complete build (the supervisor switches to it only once
the app has answered).
"""

from __future__ import annotations

import sys

from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment


def main() -> None:
    config = get_config()  # imports rxconfig, which also makes granian respawn failed workers
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_COMPILE_CONTEXT.set(constants.CompileContext.RUN)
    environment.REFLEX_SKIP_COMPILE.set(True)  # compiled and built by the first start

    from reflex.utils import exec as reflex_exec

    reflex_exec.run_backend_prod(
        config.backend_host,
        config.backend_port,
        config.loglevel.subprocess_level(),
        mount_frontend_compiled_app="--api-only" not in sys.argv[1:],  # as `reflex run --backend-only`
    )


if __name__ == "__main__":
    main()
