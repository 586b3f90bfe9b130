"""The catalogue of form types, its XSDs and samples."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest
from lxml import etree

import schemas
from schemas import CatalogueError, FormType, SchemaFileNotFound, load_catalogue

ROOT = Path(__file__).resolve().parents[2]
FORMS = ("obecne-podani", "parkovani", "poplatek-zmena", "stavebni-ohlaseni")


def test_the_four_form_types_are_listed() -> None:
    assert set(schemas.catalogue()) == set(FORMS)


@pytest.mark.parametrize("code", FORMS)
def test_form_type_is_well_described(code: str) -> None:
    form = schemas.catalogue()[code]
    assert isinstance(form, FormType)
    assert form.code == code
    assert form.namespace == f"urn:cz:podatelna:form:{code}:{form.version}"
    assert form.version == "1.0"
    assert form.xsd == f"{code}-1.0.xsd"
    assert form.xsd_path == schemas.schema_path(form.xsd)
    assert form.name_cs and form.name_en and form.description
    assert form.deadline_rules in ("sr", "dr")
    assert (form.subject_xpath is None) != (form.subject_fixed is None)
    assert schemas.form_type_for(form.namespace, form.version) is form
    assert form.to_dict()["code"] == code


def test_domain_rules_of_the_shipped_forms() -> None:
    forms = schemas.catalogue()
    assert forms["poplatek-zmena"].deadline_rules == "dr"
    assert forms["obecne-podani"].deadline_rules == "sr"
    assert forms["stavebni-ohlaseni"].unsigned_allowed is False
    assert all(forms[c].unsigned_allowed for c in FORMS if c != "stavebni-ohlaseni")


@pytest.mark.parametrize("code", FORMS)
def test_xsd_compiles_and_its_target_namespace_matches(code: str) -> None:
    form = schemas.catalogue()[code]
    doc = etree.parse(str(form.xsd_path))
    assert doc.getroot().get("targetNamespace") == form.namespace
    etree.XMLSchema(doc)


@pytest.mark.parametrize("code", FORMS)
def test_sample_is_valid_czech_and_names_its_form(code: str) -> None:
    form = schemas.catalogue()[code]
    data = schemas.sample_path(code).read_bytes()
    root = etree.fromstring(data)
    assert etree.QName(root).namespace == form.namespace
    assert root.get("verze") == form.version
    assert etree.XMLSchema(etree.parse(str(form.xsd_path))).validate(root.getroottree())
    assert any(ch in data.decode("utf-8") for ch in "ěščřžýáíéůú")


def test_form_type_for_unknown_pairs() -> None:
    form = schemas.catalogue()["parkovani"]
    assert schemas.form_type_for(form.namespace, "2.0") is None
    assert schemas.form_type_for("urn:cz:podatelna:form:nic:1.0", "1.0") is None


def test_catalogue_is_read_only_and_cached() -> None:
    assert schemas.catalogue() is schemas.catalogue()
    with pytest.raises(TypeError):
        schemas.catalogue()["x"] = schemas.catalogue()["parkovani"]  # type: ignore[index]


def test_schema_and_sample_paths_refuse_what_is_not_shipped() -> None:
    assert schemas.sample_path("parkovani.xml") == schemas.sample_path("parkovani")
    assert schemas.sample_path("invalid-parkovani-spatna-rz").is_file()
    for bad in ("../catalogue.toml", "nic.xsd", "", "..", "xsd/parkovani-1.0.xsd"):
        with pytest.raises(SchemaFileNotFound) as info:
            schemas.schema_path(bad)
        assert info.value.code == "schema_file_not_found"
    with pytest.raises(SchemaFileNotFound):
        schemas.sample_path("../xsd/parkovani-1.0")


def _entry(**changes: object) -> str:
    entry: dict[str, object] = {
        "code": "test",
        "namespace": "urn:cz:podatelna:form:test:1.0",
        "version": "1.0",
        "xsd": "parkovani-1.0.xsd",
        "name_cs": "Test",
        "name_en": "Test",
        "unsigned_allowed": True,
        "deadline_rules": "sr",
        "subject_fixed": "Test",
        "description": "Test.",
    }
    entry.update(changes)
    lines = ["[[form]]"]
    for key, value in entry.items():
        if value is None:
            continue
        rendered = ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (_entry(colour="red"), "unknown keys colour"),
        (_entry(name_en=None), "missing keys name_en"),
        (_entry(deadline_rules="xx"), "deadline_rules"),
        (_entry(subject_xpath="string(f:x)"), "exactly one of"),
        (_entry(subject_fixed=None), "exactly one of"),
        (_entry(xsd="chybi.xsd"), "not in"),
        (_entry(unsigned_allowed="no"), "true or false"),
        (_entry(name_cs=" "), "non-empty"),
        (_entry() + _entry(namespace="urn:x"), "listed twice"),
        (_entry() + _entry(code="jiny"), "already used by test"),
        ("[other]\nx = 1\n", "unknown top-level"),
        ("[[form]\n", "cannot be read"),
    ],
)
def test_load_catalogue_refuses_inconsistent_entries(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert needle in info.value.message
    assert info.value.code == "catalogue_invalid"


def test_load_catalogue_accepts_a_good_entry(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(_entry(), "utf-8")
    assert load_catalogue(path)["test"].subject_fixed == "Test"


def test_package_data_covers_every_shipped_file() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["schemas"]
    package = ROOT / "schemas"
    for path in package.rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(package).as_posix()
        assert any(
            fnmatch.fnmatch(relative, p) and relative.count("/") == p.count("/") for p in patterns
        ), f"{relative} is not in package-data"


def test_form_names_in_words() -> None:
    assert schemas.form_name("parkovani") == schemas.catalogue()["parkovani"].name_cs
    assert schemas.form_name("parkovani", "en") == schemas.catalogue()["parkovani"].name_en
    assert schemas.form_name(schemas.DATABOX_MESSAGE) == "Datová zpráva"
    assert schemas.form_name(schemas.DATABOX_MESSAGE, "en") == "Data-box message"
    assert schemas.form_name("neznamy") == "neznamy" and schemas.form_name(None) == "—"
