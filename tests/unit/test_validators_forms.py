"""XSD validation of each form type: valid samples pass, targeted mistakes fail with the right
code, line, column and path."""

from __future__ import annotations

import json
import threading

import pytest

import schemas
from validators import (
    FormValidation,
    IssueCode,
    ValidationIssue,
    XmlRejected,
    canonical_form_bytes,
    forms,
    validate_form,
)
from validators.forms import MAX_SUBJECT_CHARS

SUBJECTS = {
    "obecne-podani": "Žádost o opravu poškozeného chodníku v ulici Českobratrská",
    "parkovani": "Žádost o parkovací oprávnění pro vozidlo 8T4 1234",
    "poplatek-zmena": (
        "Ohlášení změny údajů pro místní poplatek za obecní systém odpadového hospodářství"
    ),
    "stavebni-ohlaseni": "Ohlášení stavby: Zahradní altán se zpevněnou plochou",
}


def sample(code: str) -> str:
    return schemas.sample_path(code).read_text("utf-8")


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("code", sorted(SUBJECTS))
def test_valid_sample_passes(code: str) -> None:
    result = validate_form(sample(code).encode("utf-8"))
    form = schemas.catalogue()[code]
    assert result == FormValidation(True, code, form.namespace, "1.0", SUBJECTS[code], ())
    assert result.summary().startswith(f"valid {code} 1.0")


def _single_error(text: str) -> ValidationIssue:
    result = validate_form(text.encode("utf-8"))
    assert not result.ok
    assert len(result.errors) == 1, result.errors
    (issue,) = result.errors
    assert issue.code == IssueCode.SCHEMA_INVALID
    return issue


def test_parking_plate_with_wrong_pattern() -> None:
    text = sample("parkovani").replace("<rz>8T4 1234</rz>", "<rz>OSTRAVA1</rz>")
    issue = _single_error(text)
    assert issue.path == "/*/*[5]/*[1]"
    assert issue.line == line_of(text, "<rz>")
    assert issue.column == 5
    assert "'rz'" in issue.message and "OSTRAVA1" in issue.message and "pattern" in issue.message
    assert "{urn:" not in issue.message


@pytest.mark.parametrize("plate", ["1AB 2345", "8T41234", "2SA 0001"])
def test_parking_plate_accepted_forms(plate: str) -> None:
    text = sample("parkovani").replace("8T4 1234", plate)
    assert validate_form(text.encode()).ok


@pytest.mark.parametrize("plate", ["1GB 2345", "ABC 1234", "1AB 234", "1ab 2345", "1AB  2345"])
def test_parking_plate_refused_forms(plate: str) -> None:
    text = sample("parkovani").replace("8T4 1234", plate)
    assert _single_error(text).path == "/*/*[5]/*[1]"


def test_parking_missing_element_names_what_was_expected() -> None:
    text = sample("parkovani").replace("<tovarniZnacka>Škoda</tovarniZnacka>", "")
    issue = _single_error(text)
    assert "tovarniZnacka" in issue.message
    assert issue.line == line_of(text, "<obchodniOznaceni>")


def test_parking_zone_and_period_enumerations() -> None:
    text = sample("parkovani").replace("<zona>P2</zona>", "<zona>P9</zona>")
    assert "enumeration" in _single_error(text).message
    text = sample("parkovani").replace(
        "<delkaMesicu>12</delkaMesicu>", "<delkaMesicu>7</delkaMesicu>"
    )
    assert _single_error(text).path == "/*/*[6]/*[2]"


def test_general_filing_postal_code_and_email() -> None:
    text = sample("obecne-podani").replace("<psc>702 00</psc>", "<psc>7020</psc>")
    issue = _single_error(text)
    assert issue.path == "/*/*[2]/*[6]"
    assert issue.line == line_of(text, "<psc>")
    text = sample("obecne-podani").replace("jiri.novacek@example.cz", "jiri.novacek")
    assert _single_error(text).path == "/*/*[1]/*[5]"
    assert validate_form(sample("obecne-podani").replace("702 00", "70200").encode()).ok


def test_general_filing_invalid_date_and_missing_subject() -> None:
    text = sample("obecne-podani").replace("1978-03-14", "1978-02-30")
    assert "datumNarozeni" in _single_error(text).message
    text = sample("obecne-podani").replace(
        "<vec>Žádost o opravu poškozeného chodníku v ulici Českobratrská</vec>", ""
    )
    result = validate_form(text.encode())
    assert not result.ok and result.subject is None
    assert "vec" in result.errors[0].message


def test_general_filing_subject_over_max_length() -> None:
    text = sample("obecne-podani").replace(
        "Žádost o opravu poškozeného chodníku v ulici Českobratrská", "Ž" * 256
    )
    issue = _single_error(text)
    assert "length" in issue.message
    result = validate_form(text.encode())
    assert result.subject is not None and len(result.subject) == MAX_SUBJECT_CHARS
    assert result.subject.endswith("…")


def test_waste_fee_change_counts_and_symbols() -> None:
    text = sample("poplatek-zmena").replace("<pocetOsob>2</pocetOsob>", "<pocetOsob>0</pocetOsob>")
    assert _single_error(text).path == "/*/*[6]"
    text = sample("poplatek-zmena").replace("1340021", "13400211111")
    assert _single_error(text).path == "/*/*[7]"
    text = sample("poplatek-zmena").replace("odpad-pobyt", "psi")
    assert _single_error(text).path == "/*/*[2]"


def test_building_notice_declaration_must_be_true() -> None:
    text = sample("stavebni-ohlaseni").replace("<prohlaseni>true", "<prohlaseni>false")
    issue = _single_error(text)
    assert issue.path == "/*/*[5]"
    assert issue.line == line_of(text, "<prohlaseni>")
    assert issue.column == 3


def test_building_notice_natural_person_needs_a_birth_date() -> None:
    text = sample("stavebni-ohlaseni").replace("<datumNarozeni>1971-06-30</datumNarozeni>", "")
    assert "datumNarozeni" in _single_error(text).message


def test_building_notice_legal_person_and_area() -> None:
    result = validate_form(
        schemas.sample_path("invalid-stavebni-ohlaseni-nepravdive-prohlaseni").read_bytes()
    )
    assert [e.path for e in result.errors] == ["/*/*[4]/*/*[3]", "/*/*[5]"]
    text = sample("stavebni-ohlaseni").replace("18.50", "18.505")
    assert "zastavenaPlocha" in _single_error(text).message


def test_version_attribute_is_required_by_the_xsd_too() -> None:
    # Same namespace, the right verze, but an extra unknown attribute: the XSD decides.
    text = sample("parkovani").replace('verze="1.0"', 'verze="1.0" barva="modra"')
    assert "barva" in _single_error(text).message


def test_invalid_samples_of_the_demo_are_rejected() -> None:
    cases = {
        "invalid-parkovani-spatna-rz": ("parkovani", 3),
        "invalid-obecne-podani-chybi-vec": ("obecne-podani", 2),
        "invalid-stavebni-ohlaseni-nepravdive-prohlaseni": ("stavebni-ohlaseni", 2),
    }
    for name, (code, count) in cases.items():
        result = validate_form(schemas.sample_path(name).read_bytes())
        assert not result.ok and result.form_type == code and len(result.errors) == count
        for issue in result.errors:
            assert issue.line and issue.column and issue.path and issue.message
    unknown = validate_form(schemas.sample_path("invalid-neznamy-formular").read_bytes())
    assert unknown.errors[0].code == IssueCode.UNKNOWN_FORM_TYPE
    assert unknown.namespace == "urn:cz:podatelna:form:poplatek-psi:1.0"
    assert unknown.errors[0].line == 3 and unknown.errors[0].column == 1


def test_unknown_version_message_lists_accepted_versions() -> None:
    text = sample("parkovani").replace('verze="1.0"', 'verze="9.9"')
    result = validate_form(text.encode())
    assert result.form_type is None and result.version == "9.9"
    assert "accepted versions: 1.0" in result.errors[0].message


def test_errors_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forms, "MAX_ISSUES", 1)
    result = validate_form(schemas.sample_path("invalid-parkovani-spatna-rz").read_bytes())
    assert len(result.errors) == 2
    assert result.errors[-1].message == "2 further errors are not listed."


def test_all_errors_on_one_line_get_their_own_columns() -> None:
    text = sample("obecne-podani")
    many = "".join(f'<priloha soubor="">{i}</priloha>' for i in range(5))
    text = text.replace(
        '<priloha soubor="chodnik-1.jpg">Fotografie výtluku u vchodu</priloha>', many
    )
    result = validate_form(text.encode())
    width = len('<priloha soubor="">0</priloha>')
    assert [e.column for e in result.errors] == [5 + i * width for i in range(5)]
    assert len({e.line for e in result.errors}) == 1


def test_serialisation_round_trip() -> None:
    for name in ("parkovani", "invalid-parkovani-spatna-rz", "invalid-neznamy-formular"):
        result = validate_form(schemas.sample_path(name).read_bytes())
        data = json.loads(json.dumps(result.to_dict()))
        assert FormValidation.from_dict(data) == result
    hostile = validate_form(b"<!DOCTYPE x><x/>")
    assert FormValidation.from_dict(hostile.to_dict()) == hostile
    assert hostile.summary().startswith("rejected: ")


def test_hostile_input_is_a_result_not_an_exception() -> None:
    result = validate_form(b"<a>" * 300)
    assert not result.ok and result.errors[0].code == "too_deep"


def test_canonical_form_bytes_ignores_encoding_and_syntax_variants() -> None:
    text = sample("obecne-podani")
    reference = canonical_form_bytes(text.encode("utf-8"))
    cp1250 = text.replace('encoding="UTF-8"', 'encoding="windows-1250"').encode("cp1250")
    assert canonical_form_bytes(cp1250) == reference
    spaced = text.replace('verze="1.0">', "verze='1.0'  >").replace(
        "<prilohy>", "<!-- komentář --><prilohy>"
    )
    assert canonical_form_bytes(spaced.encode()) == reference
    assert canonical_form_bytes(text.replace("Jiří", "Jiri").encode()) != reference
    assert reference.startswith(b"<podani xmlns=")
    with pytest.raises(XmlRejected) as info:
        canonical_form_bytes(b"<!DOCTYPE x><x/>")
    assert info.value.code == "doctype_forbidden"


def test_validation_from_many_threads_agrees() -> None:
    good = schemas.sample_path("parkovani").read_bytes()
    bad = schemas.sample_path("invalid-parkovani-spatna-rz").read_bytes()
    expected = {good: validate_form(good), bad: validate_form(bad)}
    failures: list[str] = []

    def work() -> None:
        for i in range(200):
            data = good if i % 2 else bad
            if validate_form(data) != expected[data]:
                failures.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
