"""A citizen in a real browser: register → verify the e-mail from the outbox → log in → send a
form with an attachment → see it in "My filings" with its reference number → download the sealed
receipt (its seal checked by pdfsig) → request the personal-data export and download it.
Also: a form with XSD errors is shown again with the errors in place, the pages switch to
English, and the main pages work on a phone-sized screen."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import schemas
from tests.browser.conftest import Portal, shot
from tests.services import require_tool

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EMAIL = "jana.novakova@example.cz"
PASSWORD = "Podatelna-2026"


def assert_labelled(page) -> None:
    """Every visible form control has a label (screen readers name it by the label)."""
    unlabelled = page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        "els => els.filter(e => !e.labels || e.labels.length === 0).map(e => e.name)",
    )
    assert unlabelled == [], f"controls without a label: {unlabelled}"


def pdfsig_valid(path: Path) -> str:
    out = subprocess.run([require_tool("pdfsig"), str(path)], capture_output=True, text=True)
    assert "Signature is Valid." in out.stdout, out.stdout + out.stderr
    return out.stdout


def register_and_log_in(page, portal: Portal, email: str = EMAIL) -> None:
    page.goto(portal.url + "/registrace")
    assert_labelled(page)
    page.get_by_label("Jméno").fill("Jana")
    page.get_by_label("Příjmení").fill("Nováková")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Heslo", exact=True).fill(PASSWORD)
    page.get_by_label("Heslo znovu").fill(PASSWORD)
    shot(page, "01-registrace")
    page.get_by_role("button", name="Zaregistrovat").click()
    page.get_by_text("Účet je založen").wait_for()
    # before verification the account may log in but not file
    link = portal.link_in_last_mail(email, r"http://\S+/email/\S+")
    page.goto(portal.url + link)
    page.get_by_text("E-mailová adresa je ověřena.").wait_for()
    assert "/prihlaseni" in page.url
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Heslo").fill(PASSWORD)
    shot(page, "02-prihlaseni")
    page.get_by_role("button", name="Přihlásit").click()
    page.wait_for_url(re.compile(r"/moje-podani$"))


def test_register_verify_send_receipt_export(page, portal: Portal, tmp_path: Path) -> None:
    register_and_log_in(page, portal)

    # a form with XSD errors comes back with the errors in place; nothing is filed
    page.goto(portal.url + "/podat")
    assert_labelled(page)
    page.get_by_label("Formulář (soubor XML)").set_input_files(
        str(schemas.sample_path("invalid-parkovani-spatna-rz"))
    )
    page.get_by_role("button", name="Odeslat podání").click()
    errors = page.locator("#validation-errors")
    errors.wait_for()
    assert "řádek" in errors.inner_text()
    shot(page, "03-podat-chyby")

    # the real one, with an attachment
    page.get_by_label("Druh formuláře").select_option("obecne-podani")
    page.get_by_label("Formulář (soubor XML)").set_input_files(
        str(schemas.sample_path("obecne-podani"))
    )
    page.get_by_label("Přílohy").set_input_files(str(CORPUS / "minimal.pdf"))
    shot(page, "04-podat")
    page.get_by_role("button", name="Odeslat podání").click()
    page.get_by_text("Podání bylo přijato ke zpracování").wait_for()
    # the detail page refreshes itself until the pipeline is done
    page.locator("#reference").wait_for(timeout=120_000)
    page.locator("#receipt-link").wait_for(timeout=120_000)
    reference = page.locator("#reference").inner_text()
    assert re.fullmatch(r"MMO/\d{5}/\d{4}", reference)
    assert "minimal.pdf" in page.content()
    shot(page, "05-detail")

    page.get_by_role("link", name="Moje podání").first.click()
    row = page.locator("#my-filings tbody tr").first
    assert row.locator(".reference").inner_text() == reference
    assert "Obecné podání" in row.inner_text() or "obecn" in row.inner_text().lower()
    shot(page, "06-moje-podani")

    with page.expect_download() as dl:
        row.get_by_role("link", name="Potvrzení").click()
    receipt = tmp_path / "receipt.pdf"
    dl.value.save_as(receipt)
    pdfsig_valid(receipt)
    text = subprocess.run(
        [require_tool("pdftotext"), str(receipt), "-"], capture_output=True, text=True
    ).stdout
    assert reference in text

    # personal-data export through a short-lived link
    page.get_by_role("link", name="Moje údaje").click()
    assert "login" in page.locator("table").inner_text()  # own audit entries are listed
    page.get_by_role("button", name="Vytvořit výpis").click()
    link = page.locator("#export-pdf")
    link.wait_for()
    shot(page, "07-moje-udaje")
    href = link.get_attribute("href")
    got = page.context.request.get(portal.url + href if href.startswith("/") else href)
    assert got.ok and got.body().startswith(b"%PDF")
    export = tmp_path / "export.pdf"
    export.write_bytes(got.body())
    pdfsig_valid(export)
    data = page.context.request.get(portal.url + page.locator("#export-json").get_attribute("href"))
    assert reference in data.text()

    # English on request, Czech by default
    page.goto(portal.url + "/moje-udaje")
    page.get_by_role("link", name="English").click()
    page.get_by_role("heading", name="My data").wait_for()
    page.goto(portal.url + "/moje-podani")
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "08-my-filings-en")


def test_public_pages_on_a_phone(phone, portal: Portal) -> None:
    for path, name in (
        ("/", "10-uvod"),
        ("/formulare", "11-formulare"),
        ("/verify", "12-overeni"),
        ("/stav", "13-stav"),
        ("/prihlaseni", "14-prihlaseni"),
    ):
        phone.goto(portal.url + path)
        assert_labelled(phone)
        # nothing wider than the screen but scrollable tables
        wide = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not wide, f"{path} is wider than a phone screen"
        shot(phone, f"{name}-telefon")
    phone.goto(portal.url + "/formulare")
    with phone.expect_download() as dl:
        phone.get_by_role("link", name="Prázdný formulář (XML)").first.click()
    assert dl.value.suggested_filename.endswith(".xml")
