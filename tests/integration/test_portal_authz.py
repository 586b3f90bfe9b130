"""Authorisation, in one table: every endpoint and page that takes a submission id or a
reference number, asked by the owner, by another registered user, by a clerk and by nobody.

Another person's id is refused as *not found* (404), so guessing reveals nothing; clerk-only
routes refuse citizens with 403; without a session or token the API answers 401 and a page
sends the browser to the login page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import schemas
from podatelna.accounts import Role
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.pipeline.runner import wait_for
from podatelna.web.api import create_api
from tests.users import PASSWORD, bearer, make_user

pytestmark = pytest.mark.integration

OWNER, OTHER, CLERK = "alice@example.cz", "bob@example.cz", "urednik@mmo.example.cz"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("authz")
    app = App(load_settings(environ={}, overrides={"data_dir": str(tmp / "var")}))
    with TestClient(create_api(app, run_workers=True)) as tc:
        make_user(app, OWNER, role=Role.CONTRACTUAL)
        make_user(app, OTHER, role=Role.CONTRACTUAL)  # same role: only ownership differs
        make_user(app, CLERK, role=Role.CLERK)
        r = tc.post(
            "/api/v1/submissions",
            files=[
                (
                    "form",
                    ("f.xml", schemas.sample_path("obecne-podani").read_bytes(), "application/xml"),
                )
            ],
            headers=bearer(app, OWNER),
        )
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
        assert wait_for(app, sid, timeout=90) == "completed"
        ref = tc.get(f"/api/v1/submissions/{sid}", headers=bearer(app, OWNER)).json()["reference"]
        yield {"app": app, "tc": tc, "sid": sid, "ref": ref}
    app.close()


def _session(app: App, email: str) -> TestClient:
    """A separate browser: logged in through the login form, with its own cookies."""
    c = TestClient(create_api(app), follow_redirects=False)
    page = c.get("/prihlaseni").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = c.post("/prihlaseni", data={"csrf": csrf, "email": email, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return c


def _csrf(c: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get("/heslo").text).group(1)


CONFIRM = {"how": "received", "on": "2026-01-01"}

# (method, path, body kind, owner, other user, clerk, anonymous)
#   body kind: None, "json" (API confirmation) or "form" (page form with CSRF)
API = [
    ("GET", "/api/v1/submissions/{sid}", None, 200, 404, 200, 401),
    ("GET", "/api/v1/filings/{ref}", None, 200, 404, 200, 401),
    ("GET", "/api/v1/filings/{ref}/receipt.pdf", None, 200, 404, 200, 401),
    ("GET", "/api/v1/filings/{ref}/copy.pdf", None, 200, 404, 200, 401),
    ("GET", "/api/v1/submissions/{sid}/files/0", None, 200, 404, 200, 401),
    ("POST", "/api/v1/filings/{ref}/confirmation", "json", 403, 403, None, 401),
]
PAGES = [
    ("GET", "/moje-podani/{sid}", None, 200, 404, 200, 303),
    ("GET", "/moje-podani/{sid}/potvrzeni.pdf", None, 200, 404, 200, 303),
    ("GET", "/moje-podani/{sid}/opis.pdf", None, 200, 404, 200, 303),
    ("GET", "/moje-podani/{sid}/soubory/0", None, 200, 404, 200, 303),
    ("GET", "/urad/podani/{sid}", None, 403, 403, 200, 303),
    ("POST", "/urad/podani/{sid}/stav", "form", 403, 403, None, 303),
    ("POST", "/urad/podani/{sid}/potvrzeni", "form", 403, 403, None, 303),
]


@pytest.mark.parametrize("row", API + PAGES, ids=[f"{m} {p}" for m, p, *_ in API + PAGES])
def test_only_the_owner_and_staff_reach_a_filing(world, row) -> None:
    method, template, body, *expected = row
    app, tc = world["app"], world["tc"]
    path = template.format(sid=world["sid"], ref=world["ref"])
    is_page = not path.startswith("/api/")
    for who, want in zip((OWNER, OTHER, CLERK, None), expected, strict=True):
        if want is None:
            continue  # an act that would change the filing: its success is tested elsewhere
        if is_page:
            c = _session(app, who) if who else TestClient(create_api(app), follow_redirects=False)
            kw: dict = {}
            if body == "form":
                kw["data"] = {
                    "csrf": _csrf(c),
                    "status": "settled",
                    "how": "received",
                    "on": "2026-01-01",
                }
            r = c.request(method, path, **kw)
        else:
            headers = bearer(app, who) if who else {}
            kw = {"json": CONFIRM} if body == "json" else {}
            r = tc.request(method, path, headers=headers, **kw)
        assert r.status_code == want, f"{who or 'anonymous'}: {method} {path} -> {r.status_code}"
        if want == 404 and not is_page:
            assert r.json()["code"] == "not_found"
            # the same answer as for an id that does not exist: nothing about the filing
            assert OWNER not in r.text and "sha256" not in r.text and "received_at" not in r.text
        if want == 303:
            assert r.headers["location"].startswith("/prihlaseni?next=")


def test_lists_show_only_ones_own(world) -> None:
    app, tc = world["app"], world["tc"]
    mine = tc.get("/api/v1/me/filings", headers=bearer(app, OWNER)).json()["filings"]
    assert [f["reference"] for f in mine] == [world["ref"]]
    assert tc.get("/api/v1/me/filings", headers=bearer(app, OTHER)).json()["filings"] == []
    page = _session(app, OTHER).get("/moje-podani").text
    assert world["ref"] not in page
    assert tc.get("/api/v1/tracker/awaiting", headers=bearer(app, OTHER)).status_code == 403
    assert tc.get("/api/v1/tracker/awaiting", headers=bearer(app, CLERK)).status_code == 200
    assert _session(app, OTHER).get("/urad/denik").status_code == 403


def test_registered_user_cannot_open_content_and_unverified_cannot_file(world) -> None:
    app, tc = world["app"], world["tc"]
    plain = bearer(app, "registered@example.cz")
    r = tc.get(f"/api/v1/submissions/{world['sid']}/files/0", headers=plain)
    assert r.status_code == 403 and r.json()["code"] == "contract_required"
    fresh = bearer(app, "unverified@example.cz", verified=False)
    r = tc.post(
        "/api/v1/submissions",
        files=[
            ("form", ("f.xml", schemas.sample_path("parkovani").read_bytes(), "application/xml"))
        ],
        headers=fresh,
    )
    assert r.status_code == 403 and r.json()["code"] == "email_not_verified"
    r = tc.post(
        "/api/v1/submissions",
        files=[
            ("form", ("f.xml", schemas.sample_path("parkovani").read_bytes(), "application/xml"))
        ],
        data={"sender": OWNER},
        headers=bearer(app, OTHER),
    )
    assert r.status_code == 403 and r.json()["code"] == "sender_mismatch"


def test_cookie_session_needs_csrf_for_api_writes(world) -> None:
    c = _session(world["app"], OWNER)
    r = c.post(
        "/api/v1/submissions",
        files=[
            ("form", ("f.xml", schemas.sample_path("parkovani").read_bytes(), "application/xml"))
        ],
    )
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    page_without_token = c.post("/moje-udaje/vypis", data={})
    assert page_without_token.status_code == 403
