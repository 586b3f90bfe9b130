"""Forms generated from the XSD of the simple form types: the sample of each, typed into the
generated fields, gives back a form that validates and equals the sample canonically; a wrong
value is shown with its XSD error in place; richer types get no generated form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import etree

import schemas
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.pipeline.runner import wait_for
from podatelna.web.api import create_api
from podatelna.web.xsdform import build_xml, generated_form, simple_codes
from tests.users import PASSWORD, make_user
from validators import canonical_form_bytes, validate_form


def sample_values(code: str) -> dict[str, str]:
    form = generated_form(code)
    assert form is not None
    root = etree.fromstring(schemas.sample_path(code).read_bytes())
    values = {}
    for f in form.fields():
        path = "/".join(f"f:{p}" for p in f.path.split("."))
        hit = root.xpath(path, namespaces={"f": form.namespace})
        if hit:
            values[f.path] = hit[0].text or ""
    return values


def test_simple_and_rich_form_types() -> None:
    assert set(simple_codes()) == {"parkovani", "poplatek-zmena"}
    assert generated_form("obecne-podani") is None  # a list of attachments: upload it
    assert generated_form("no-such-form") is None


@pytest.mark.parametrize("code", ["parkovani", "poplatek-zmena"])
def test_sample_typed_into_the_generated_form_round_trips(code: str) -> None:
    form = generated_form(code)
    xml = build_xml(form, sample_values(code))
    result = validate_form(xml)
    assert result.ok, result.errors
    assert result.form_type == code
    assert canonical_form_bytes(xml) == canonical_form_bytes(schemas.sample_path(code).read_bytes())


@pytest.fixture
def browser(tmp_path) -> Iterator[tuple[App, TestClient]]:
    app = App(load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")}))
    with TestClient(create_api(app, run_workers=True), follow_redirects=False) as c:
        make_user(app, "ota@example.cz")
        page = c.get("/prihlaseni").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        r = c.post(
            "/prihlaseni", data={"csrf": csrf, "email": "ota@example.cz", "password": PASSWORD}
        )
        assert r.status_code == 303
        yield app, c
    app.close()


@pytest.mark.integration
def test_fill_in_online_shows_errors_in_place_then_files(browser) -> None:
    app, c = browser
    page = c.get("/podat/vyplnit/parkovani")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    values = sample_values("parkovani")
    assert 'name="vozidlo.rz"' in page.text and '<label for="f-vozidlo-rz">' in page.text
    wrong = {**values, "vozidlo.rz": "nesmysl"}
    r = c.post(
        "/podat/vyplnit/parkovani",
        files={"csrf": (None, csrf), **{k: (None, v) for k, v in wrong.items()}},
    )
    assert r.status_code == 422
    assert 'id="validation-errors"' in r.text and "rz" in r.text
    field = r.text[r.text.index('id="f-vozidlo-rz"') :].split(">", 1)[0]
    assert 'value="nesmysl"' in field, field  # what was typed stays
    r = c.post(
        "/podat/vyplnit/parkovani",
        files={
            "csrf": (None, csrf),
            **{k: (None, v) for k, v in values.items()},
            "attachments": ("tp.txt", b"technicky prukaz\n", "text/plain"),
        },
    )
    assert r.status_code == 303, r.text
    sid = r.headers["location"].split("/")[2].split("?")[0]
    assert wait_for(app, sid, timeout=90) == "completed"
    assert c.get("/podat/vyplnit/obecne-podani").status_code == 404
    assert "/podat/vyplnit/parkovani" in c.get("/podat").text
