"""The portal's pages without a browser: every page renders in Czech and English (no missing
text), cookies carry the right flags, forms refuse a missing or foreign CSRF field, logout ends
the session, redirects stay on the site, the receipt verification page finds a real receipt by
its code and shows no personal data, and the API's own account endpoints work."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import schemas
from podatelna.accounts import Role
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.pipeline.runner import wait_for
from podatelna.web.api import create_api
from podatelna.web.i18n import TEXTS
from tests.users import PASSWORD, bearer, make_user

pytestmark = pytest.mark.integration

SENDER = "karel@example.cz"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("pages")
    app = App(load_settings(environ={}, overrides={"data_dir": str(tmp / "var")}))
    with TestClient(create_api(app, run_workers=True)) as tc:
        make_user(app, SENDER, role=Role.CONTRACTUAL, first_name="Karel", surname="Čapek")
        make_user(app, "clerk@mmo.example.cz", role=Role.ADMIN)
        r = tc.post(
            "/api/v1/submissions",
            files=[("form", ("f.xml", schemas.sample_path("parkovani").read_bytes(), "text/xml"))],
            headers=bearer(app, SENDER),
        )
        sid = r.json()["id"]
        bad = tc.post(
            "/api/v1/submissions",
            files=[
                (
                    "form",
                    (
                        "f.xml",
                        schemas.sample_path("invalid-parkovani-spatna-rz").read_bytes(),
                        "text/xml",
                    ),
                )
            ],
            headers=bearer(app, SENDER),
        ).json()["id"]
        assert wait_for(app, sid, timeout=90) == "completed"
        assert wait_for(app, bad, timeout=90) == "rejected"
        info = tc.get(f"/api/v1/submissions/{sid}", headers=bearer(app, SENDER)).json()
        yield {"app": app, "tc": tc, "sid": sid, "info": info}
    app.close()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _browser(app: App, email: str | None = None, lang: str = "cs") -> TestClient:
    c = TestClient(create_api(app), follow_redirects=False)
    if lang != "cs":
        c.get(f"/jazyk/{lang}")
    if email:
        r = c.post(
            "/prihlaseni",
            data={"csrf": _csrf(c.get("/prihlaseni").text), "email": email, "password": PASSWORD},
        )
        assert r.status_code == 303, r.text
    return c


@pytest.mark.parametrize("lang", ["cs", "en"])
def test_every_page_renders_in_both_languages(site, lang: str) -> None:
    app, sid = site["app"], site["sid"]
    pages = {
        None: ["/", "/formulare", "/verify", "/stav", "/registrace", "/prihlaseni", "/heslo"],
        SENDER: ["/podat", "/moje-podani", f"/moje-podani/{sid}", "/moje-udaje", "/ucet"],
        "clerk@mmo.example.cz": [
            "/urad/denik",
            "/urad/potvrzeni",
            "/urad/odmitnuta",
            f"/urad/podani/{sid}",
            "/urad/denik?from=2020-01-01&to=2099-12-31&form_type=parkovani&state=registered"
            "&channel=portal",
        ],
    }
    other = {k: v[1 if lang == "cs" else 0] for k, v in TEXTS.items()}
    for who, paths in pages.items():
        c = _browser(app, who, lang)
        for path in paths:
            r = c.get(path)
            assert r.status_code == 200, f"{path}: {r.status_code}"
            html = r.text
            assert f'<html lang="{lang}">' in html
            assert (
                "Content-Security-Policy" in r.headers
                and "http" not in r.headers["Content-Security-Policy"]
            )
            assert r.headers["Referrer-Policy"] == "no-referrer"
            # no text of the other language in the page's frame (the switch link aside)
            nav = other["nav_forms"]
            assert f">{nav}<" not in html, f"{path} shows {nav!r} in {lang}"


def test_cookies_are_http_only_same_site_and_secure_when_configured(site, tmp_path: Path) -> None:
    c = _browser(site["app"])
    page = c.get("/prihlaseni")
    csrf_cookie = page.headers["set-cookie"]
    assert "HttpOnly" in csrf_cookie and "SameSite=lax" in csrf_cookie
    r = c.post(
        "/prihlaseni", data={"csrf": _csrf(page.text), "email": SENDER, "password": PASSWORD}
    )
    session_cookie = r.headers["set-cookie"]
    assert session_cookie.startswith("podatelna_session=")
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "Secure" not in session_cookie  # web.cookie_secure is off on plain http
    secure_app = App(
        load_settings(
            environ={},
            overrides={"data_dir": str(tmp_path / "var"), "web": {"cookie_secure": True}},
        )
    )
    with TestClient(create_api(secure_app), follow_redirects=False) as s:
        make_user(secure_app, SENDER)
        p = s.get("/prihlaseni")
        assert "Secure" in p.headers["set-cookie"]
    secure_app.close()


def test_csrf_logout_and_redirects(site) -> None:
    app = site["app"]
    c = _browser(app, SENDER)
    assert c.get("/moje-podani").status_code == 200
    # a form posted without the field, or with another browser's value, is refused
    assert c.post("/odhlaseni", data={}).status_code == 403
    foreign = _csrf(_browser(app).get("/prihlaseni").text)
    assert c.post("/odhlaseni", data={"csrf": foreign}).status_code == 403
    assert c.get("/moje-podani").status_code == 200  # still logged in
    huge = {"csrf": _csrf(c.get("/moje-podani").text), "note": "x" * 100_000}
    assert c.post("/odhlaseni", data=huge).status_code == 413
    assert c.get("/moje-podani").status_code == 200
    token = _csrf(c.get("/moje-podani").text)
    r = c.post("/odhlaseni", data={"csrf": token})
    assert r.status_code == 303
    stolen = r.headers.get("set-cookie", "")
    assert "podatelna_session=" in stolen
    assert c.get("/moje-podani").headers["location"].startswith("/prihlaseni")
    # an open redirect through the login or language switch is not possible
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert c.get(f"/jazyk/en?next={target}").headers["location"] == "/"


def test_session_cookie_is_revoked_by_logout_not_only_deleted(site) -> None:
    app = site["app"]
    c = _browser(app, SENDER)
    raw = c.cookies.get("podatelna_session")
    c.post("/odhlaseni", data={"csrf": _csrf(c.get("/moje-podani").text)})
    replay = TestClient(create_api(app), follow_redirects=False)
    replay.cookies.set("podatelna_session", raw)
    assert replay.get("/moje-podani").status_code == 303


def test_receipt_verification_page(site) -> None:
    app, info = site["app"], site["info"]
    c = _browser(app)
    code = info["receipt_id"]
    for path in (f"/verify/{code}", f"/verify?code={code.lower()}"):
        html = c.get(path).text
        assert info["reference"] in html
        for f in info["files"]:
            assert f["sha256"] in html
        assert SENDER not in html and "Čapek" not in html and (info["subject"] or "") not in html
    html = c.get("/verify?code=ABCDEFABCDEFABCDEFAB").text
    assert 'id="not-found"' in html and info["reference"] not in html


def test_blank_forms_and_state_page(site) -> None:
    c = _browser(site["app"])
    for form in schemas.catalogue().values():
        r = c.get(f"/formulare/{form.code}.xml")
        assert r.status_code == 200 and form.namespace.encode() in r.content
        assert c.get(f"/formulare/{form.code}.xsd").status_code == 200
    assert c.get("/formulare/../../etc/passwd.xml").status_code == 404
    assert c.get("/formulare/nic.xml").status_code == 404
    html = c.get("/stav").text
    assert 'data-level="in_operation"' in html and "V provozu" in html
    assert "Fronta: ověření podpisů" in html and "verify</dt>" not in html


def test_account_api_register_verify_token(site) -> None:
    app, tc = site["app"], site["tc"]
    r = tc.post(
        "/api/v1/accounts",
        json={"email": "api@example.cz", "first_name": "A", "surname": "B", "password": "x"},
    )
    assert r.status_code == 422 and r.json()["code"] == "weak_password"
    r = tc.post(
        "/api/v1/accounts",
        json={
            "email": "api@example.cz",
            "first_name": "A",
            "surname": "B",
            "password": "Heslo-Api-1",
        },
    )
    assert r.status_code == 201
    mail = [m for m in app.notifier.messages() if m["To"] == "api@example.cz"][-1]
    token = re.search(r"/email/(\S+)", mail.get_content()).group(1)
    r = tc.post("/api/v1/tokens", json={"email": "api@example.cz", "password": "Heslo-Api-1"})
    assert r.status_code == 201
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    assert tc.get("/api/v1/me", headers=headers).json()["verified"] is False
    assert tc.post("/api/v1/accounts/verify", json={"token": token}).json()["verified"] is True
    assert tc.post("/api/v1/accounts/verify", json={"token": token}).json()["code"] == (
        "link_invalid"
    )
    assert tc.get("/api/v1/me", headers=headers).json()["verified"] is True
    audit = tc.get("/api/v1/me/audit", headers=headers).json()["entries"]
    assert {"account.registered", "account.email_verified"} <= {e["action"] for e in audit}
    assert tc.delete("/api/v1/tokens/current", headers=headers).status_code == 200
    assert tc.get("/api/v1/me", headers=headers).status_code == 401
    r = tc.post("/api/v1/tokens", json={"email": "api@example.cz", "password": "wrong"})
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"


def test_registering_a_taken_address_answers_as_for_a_new_one(site) -> None:
    """Nobody learns from the answer whether an address has an account; its owner is told."""
    app, tc = site["app"], site["tc"]
    body = {"email": "obsazena@Example.CZ", "first_name": "A", "surname": "B"}
    first = tc.post("/api/v1/accounts", json=dict(body, password="Heslo-Api-1"))
    again = tc.post("/api/v1/accounts", json=dict(body, password="Jine-Heslo-2"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"email": "obsazena@example.cz", "verified": False}
    mails = [m for m in app.notifier.messages() if m["To"] == "obsazena@example.cz"]
    assert [m["Subject"] for m in mails] == [
        "Potvrzení e-mailové adresy",
        "Pokus o registraci s Vaší adresou",
    ]
    assert "/heslo" in mails[1].get_content() and "/email/" not in mails[1].get_content()
    # the page answers the same way; the first password is still the one that works
    c = _browser(app)
    page = c.post(
        "/registrace",
        data={
            "email": "obsazena@example.cz",
            "first_name": "A",
            "surname": "B",
            "password": "Jine-Heslo-3",
            "password2": "Jine-Heslo-3",
            "csrf": _csrf(c.get("/registrace").text),
        },
    )
    assert page.status_code == 200 and "existuje" not in page.text
    assert (
        tc.post(
            "/api/v1/tokens", json={"email": "obsazena@example.cz", "password": "Heslo-Api-1"}
        ).status_code
        == 201
    )
    assert (
        tc.post(
            "/api/v1/tokens", json={"email": "obsazena@example.cz", "password": "Jine-Heslo-2"}
        ).status_code
        == 401
    )


def test_account_settings_password_email_and_deletion(site) -> None:
    app = site["app"]
    make_user(app, "zmena@example.cz")
    c = _browser(app, "zmena@example.cz")
    token = _csrf(c.get("/ucet").text)
    r = c.post("/ucet/heslo", data={"csrf": token, "old": "wrong", "new": "Nove-heslo-1"})
    assert r.status_code == 401
    r = c.post("/ucet/heslo", data={"csrf": token, "old": PASSWORD, "new": "Nove-heslo-1"})
    assert r.status_code == 303 and "password_changed" in r.headers["location"]
    assert c.get("/ucet").status_code == 200  # this session stays
    r = c.post(
        "/ucet/email",
        data={"csrf": token, "email": "zmena2@example.cz", "password": "Nove-heslo-1"},
    )
    assert r.status_code == 303
    mail = [m for m in app.notifier.messages() if m["To"] == "zmena2@example.cz"][-1]
    link = re.search(r"/email/\S+", mail.get_content()).group(0)
    assert c.get(link).status_code == 303
    assert "zmena2@example.cz" in c.get("/ucet").text
    r = c.post("/ucet/zrusit", data={"csrf": token, "password": "Nove-heslo-1"})
    assert r.status_code == 303 and "account_deleted" in r.headers["location"]
    assert c.get("/ucet").status_code == 303  # logged out: the sessions ended with the account
    fresh = _browser(app)
    r = fresh.post(
        "/prihlaseni",
        data={
            "csrf": _csrf(fresh.get("/prihlaseni").text),
            "email": "zmena2@example.cz",
            "password": "Nove-heslo-1",
        },
    )
    assert r.status_code == 401
