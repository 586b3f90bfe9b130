"""A clerk in a real browser: the journal, the filings awaiting confirmation with the days
left, recording a confirmation received at the office, a status change with a note, and the
rejected submissions with their reasons. The citizen's filings come in through the API."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

import schemas
from filing_registry import AuditEntry, Filing
from podatelna.accounts import Role
from podatelna.pipeline.runner import wait_for
from tests.browser.conftest import Portal, shot
from tests.users import PASSWORD, bearer, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLERK = "novak@mmo.example.cz"


def file_via_api(portal: Portal, sample: str, sender: str = "petr@example.cz") -> str:
    r = httpx.post(
        portal.url + "/api/v1/submissions",
        files=[("form", ("f.xml", schemas.sample_path(sample).read_bytes(), "application/xml"))],
        headers=bearer(portal.app, sender, first_name="Petr", surname="Dvořák"),
        timeout=30,
    )
    assert r.status_code == 202, r.text
    return r.json()["id"]


def log_in(page, portal: Portal, email: str) -> None:
    page.goto(portal.url + "/prihlaseni")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Heslo").fill(PASSWORD)
    page.get_by_role("button", name="Přihlásit").click()
    page.wait_for_url(re.compile(r"/moje-podani$"))


def test_clerk_records_a_confirmation_and_changes_a_status(page, portal: Portal) -> None:
    good = file_via_api(portal, "parkovani")
    bad = file_via_api(portal, "invalid-parkovani-spatna-rz")
    assert wait_for(portal.app, good, timeout=120) == "completed"
    assert wait_for(portal.app, bad, timeout=120) == "rejected"
    with portal.app.sessions() as s:
        reference = s.execute(
            select(Filing.reference).where(Filing.submission_id == good)
        ).scalar_one()
    make_user(portal.app, CLERK, role=Role.CLERK, first_name="Jan", surname="Novák")
    log_in(page, portal, CLERK)

    page.get_by_role("link", name="Podací deník").click()
    page.get_by_label("Formulář").select_option("parkovani")
    page.get_by_role("button", name="Filtrovat").click()
    assert reference in page.locator("#journal").inner_text()
    shot(page, "20-urad-denik")

    page.get_by_role("link", name="Čeká na potvrzení").click()
    row = page.locator(f'#awaiting tr[data-reference="{reference}"]')
    assert int(row.locator(".days-left").inner_text()) >= 4
    shot(page, "21-urad-ceka-na-potvrzeni")
    row.get_by_label("Způsob").select_option("received")
    row.get_by_label("Poznámka").fill("doručeno osobně na podatelnu")
    row.get_by_role("button", name="Zaznamenat potvrzení").click()
    page.get_by_text("Potvrzení je zaznamenáno.").wait_for()
    assert page.locator(f'#awaiting tr[data-reference="{reference}"]').count() == 0
    shot(page, "22-urad-potvrzeno")

    page.get_by_role("link", name="Podací deník").click()
    page.get_by_role("link", name=reference).click()
    page.get_by_label("Stav", exact=True).select_option("settled")
    page.get_by_label("Poznámka").fill("vyřízeno vydáním parkovací karty")
    page.get_by_role("button", name="Uložit").click()
    page.get_by_text("Stav je změněn.").wait_for()
    assert "vyřízeno" in page.locator("#state").inner_text()
    shot(page, "23-urad-podani")

    page.get_by_role("link", name="Odmítnutá podání").click()
    assert "petr@example.cz" in page.locator("#rejected").inner_text()
    shot(page, "24-urad-odmitnuta")

    with portal.app.sessions() as s:
        f = s.execute(select(Filing).where(Filing.reference == reference)).scalar_one()
        assert (f.tracker_state, f.status) == ("confirmed", "settled")
        actors = s.execute(
            select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.object_id == reference)
        ).all()
    assert ("filing.confirmed", f"clerk:{CLERK}") in actors
    assert ("filing.status_changed", f"clerk:{CLERK}") in actors
