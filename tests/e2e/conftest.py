"""Browser fixtures: the production app started once per run, driven by Debian's Chromium."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devtools.app_process import start_app
from devtools.services import free_port
from tests.helpers import start_cli, stop, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (make test does this)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def demo_chain():
    from backend.demo.seed import DemoSpec, seed_demo

    # Two months of trading: what the journeys need (sign-in, charts), at a fraction of the 400 days' time.
    return seed_demo(only_if_empty=False, spec=DemoSpec(history_days=60))


@pytest.fixture(scope="session")
def assistant_model():
    """The AI provider the app is configured with: a local OpenAI-compatible server that streams slowly
    enough for a browser to see the answer arrive. Chains use it only once their owner switches it on."""
    from tests.assistant_llm_server import FakeModel, pharmacy_model

    model = FakeModel(responder=pharmacy_model, chunk_delay=0.03).start()
    yield model
    model.stop()


@pytest.fixture(scope="session")
def stripe_api():
    """The Stripe the app is configured with: tests/stripe_server.py on a local port. A chain takes cards
    only once its owner connects its account, so other journeys sell for cash as before."""
    from tests.stripe_server import StripeServer

    server = StripeServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def push_service():
    """The web push service the app's pushes go to: tests/push_service.py (no real one is reachable here);
    `.env` configures the app and its worker with its VAPID pair."""
    from backend.notifications.webpush import new_key_pair
    from tests.push_service import PushService

    private, public = new_key_pair()
    service = PushService(public).start()
    service.env = {"VAPID_PRIVATE_KEY": private, "VAPID_PUBLIC_KEY": public, "PUSH_SERVICE_HOSTS": "127.0.0.1"}
    yield service
    service.stop()


# Package scope: the app's worker and relay stop when the browser journeys end, or they would take the
# outbox rows and jobs of later tests that start their own (tests/fault kills those on purpose).
@pytest.fixture(scope="package")
def app_url(test_database, demo_chain, assistant_model, stripe_api, push_service):
    """The app in prod mode on a free port, with a worker and the outbox relay."""
    port = free_port()
    url = f"http://localhost:{port}"
    app = start_app(
        url,
        "test",
        {
            "ASSISTANT_OPENAI_BASE_URL": assistant_model.base_url,
            "ASSISTANT_OPENAI_API_KEY": "sk-e2e-not-a-real-key",
            "ASSISTANT_OPENAI_MODEL": "fake-pharmacy-1",
            "ASSISTANT_OPENAI_TIMEOUT": "5",
            "ASSISTANT_OPENAI_MAX_RETRIES": "0",
            "STRIPE_API_BASE": stripe_api.base_url,
            "STRIPE_SECRET_KEY": stripe_api.api_key,
            "STRIPE_WEBHOOK_SECRET": stripe_api.webhook_secret,
            "STRIPE_MAX_RETRIES": "0",
            # Every browser journey comes from 127.0.0.1: one client IP for the whole run, whose 20 free portal
            # tries an hour the journeys together use up. The per-IP limit is tested in the backend
            # (tests/backend/portal); the per-Rx limit stays as in production here.
            "PORTAL_FREE_TRIES_PER_IP": "1000",
            **push_service.env,
        },
    )
    # default: the outbox jobs; notifications: the e-mails and texts they queue (the portal mails go there)
    worker = start_cli("worker", "--queues", "notifications,default", env=push_service.env, log_name="test-app-worker")
    ocr_worker = start_cli("worker", "--queues", "ocr", log_name="test-app-ocr-worker")
    relay = start_cli("relay", "--interval", "0.2", log_name="test-app-relay")
    try:
        wait_until(
            lambda: app.exited() or _answers(f"{url}/api/v1/health"),
            timeout=600,
            interval=1,
            message="the app to build and start",
        )
        if app.exited():
            pytest.fail(f"the app exited; see {app.log_path}")
        yield url
    finally:
        for process in (relay, worker, ocr_worker):
            stop(process)
        app.stop()
