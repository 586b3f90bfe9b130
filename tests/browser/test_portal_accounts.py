"""Accounts in a real browser: the lockout after five wrong passwords (the right one does not
open a locked account), and the reset link flow (single use; the new password works, the old
one does not)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from filing_registry import AuditEntry
from tests.browser.conftest import Portal, shot
from tests.users import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL = "eva.svobodova@example.cz"


def try_login(page, portal: Portal, password: str) -> None:
    page.goto(portal.url + "/prihlaseni")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Heslo").fill(password)
    page.get_by_role("button", name="Přihlásit").click()


def _actions(portal: Portal) -> list[str]:
    with portal.app.sessions() as s:
        return list(s.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())


def test_five_wrong_passwords_lock_the_account(page, portal: Portal) -> None:
    make_user(portal.app, EMAIL, first_name="Eva", surname="Svobodová")
    for _ in range(4):
        try_login(page, portal, "Spatne-heslo-1")
        page.get_by_text("E-mail nebo heslo nejsou správné.").wait_for()
    try_login(page, portal, "Spatne-heslo-1")
    page.get_by_text("dočasně zablokován").wait_for()
    shot(page, "30-zablokovano")
    try_login(page, portal, PASSWORD)
    page.get_by_text("dočasně zablokován").wait_for()
    assert "/prihlaseni" in page.url
    assert _actions(portal).count("login.failed") == 5
    assert "account.locked" in _actions(portal)
    assert _actions(portal)[-1] == "login.refused_locked"


def test_reset_link_sets_a_new_password_once(page, portal: Portal) -> None:
    make_user(portal.app, EMAIL, first_name="Eva", surname="Svobodová")
    page.goto(portal.url + "/prihlaseni")
    page.get_by_role("link", name="Zapomenuté heslo").click()
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_role("button", name="Poslat odkaz").click()
    page.get_by_text("Pokud k adrese existuje účet").wait_for()
    link = portal.link_in_last_mail(EMAIL, r"http://\S+/heslo/nove/\S+")
    mail = portal.outbox()[-1].get_content()
    assert PASSWORD not in mail and "Nove-heslo" not in mail  # a link, never a password
    page.goto(portal.url + link)
    page.get_by_label("Nové heslo").fill("slabeheslo")
    page.get_by_label("Heslo znovu").fill("slabeheslo")
    page.get_by_role("button", name="Nastavit heslo").click()
    page.get_by_text("Heslo je příliš slabé").wait_for()
    page.get_by_label("Nové heslo").fill("Nove-heslo-2026")
    page.get_by_label("Heslo znovu").fill("Nove-heslo-2026")
    shot(page, "31-nove-heslo")
    page.get_by_role("button", name="Nastavit heslo").click()
    page.get_by_text("Heslo je změněno.").wait_for()
    # used once: the link no longer works
    page.goto(portal.url + link)
    page.get_by_text("Odkaz neplatí").wait_for()
    shot(page, "32-odkaz-neplati")
    try_login(page, portal, PASSWORD)
    page.get_by_text("E-mail nebo heslo nejsou správné.").wait_for()
    try_login(page, portal, "Nove-heslo-2026")
    page.wait_for_url(re.compile(r"/moje-podani$"))
    assert "password.reset" in _actions(portal)
