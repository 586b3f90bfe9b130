"""Browser tests: the portal served by uvicorn on a free local port, driven by Playwright with
Debian's Chromium (headless; no browser is downloaded). Screenshots of the pages go to
``tests/artifacts/`` (not committed) for a person to look at.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from podatelna.app import App
from podatelna.config import Settings, load_settings
from tests.services import missing, require_tool

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Portal:
    app: App
    url: str

    def outbox(self) -> list[EmailMessage]:
        return self.app.notifier.messages()

    def link_in_last_mail(self, to: str, pattern: str) -> str:
        """The URL matching ``pattern`` in the newest message to ``to``; path only."""
        for msg in reversed(self.outbox()):
            if msg["To"] == to:
                found = re.search(pattern, msg.get_content())
                if found:
                    return found.group(0).replace(self.url, "")
        raise AssertionError(f"no message to {to} with {pattern!r} in the outbox")


def serve(settings_for: Callable[[str], Settings]) -> Iterator[Portal]:
    """Run the portal (with its in-process workers) in a thread; yield its address."""
    import uvicorn

    from podatelna.web.api import create_api

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = App(settings_for(url))
    config = uvicorn.Config(
        create_api(app, run_workers=True),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    try:
        yield Portal(app, url)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        app.close()


def embedded_settings(tmp: Path, **extra: Any) -> Callable[[str], Settings]:
    def build(url: str) -> Settings:
        overrides: dict[str, Any] = {
            "data_dir": str(tmp / "var"),
            "office": {"portal_url": url},
            "broker": {"sweep_interval_seconds": 1, "lease_seconds": 5},
        }
        overrides.update(extra)
        return load_settings(environ={}, overrides=overrides)

    return build


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    yield from serve(embedded_settings(tmp_path))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the whole session: while Playwright's sync API is
    active it keeps an event loop running in the main thread, and later tests that call
    ``asyncio.run`` (pyHanko's signing, for one) would fail."""
    chromium = require_tool("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the Python package playwright")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, locale="cs-CZ")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page the size of a phone screen."""
    context = browser.new_context(
        accept_downloads=True,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
