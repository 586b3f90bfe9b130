"""The public system state page on a real S3 server: *in operation*, then *limited
functionality* when the object store is stopped, and back when it returns."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import Portal, embedded_settings, serve, shot
from tests.s3server import S3Server, unique_prefix

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration]


@pytest.fixture
def s3_portal(s3_server_private: S3Server, tmp_path: Path) -> Iterator[tuple[Portal, S3Server]]:
    storage = s3_server_private.storage_settings(unique_prefix())
    for portal in serve(embedded_settings(tmp_path, storage=storage)):
        yield portal, s3_server_private


def level_after_reload(page, url: str, want: str, timeout: float = 30) -> str:
    """Reload until the page shows ``want`` (the state is cached for a couple of seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        level = page.locator("#level").get_attribute("data-level")
        if level == want or time.monotonic() > deadline:
            return level
        time.sleep(1)


def test_state_page_shows_limited_functionality_when_the_store_stops(page, s3_portal) -> None:
    portal, server = s3_portal
    url = portal.url + "/stav"
    assert level_after_reload(page, url, "in_operation") == "in_operation"
    assert page.locator("#level").inner_text() == "V provozu"
    shot(page, "40-stav-v-provozu")
    server.stop()
    try:
        assert level_after_reload(page, url, "limited") == "limited"
        assert page.locator("#level").inner_text() == "Omezená funkčnost"
        assert "Úložiště dokumentů" in page.locator("tr.bad").inner_text()
        shot(page, "41-stav-omezena-funkcnost")
    finally:
        server.start()
    assert level_after_reload(page, url, "in_operation") == "in_operation"
