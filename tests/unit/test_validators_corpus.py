"""The hostile-input corpus (tests/corpus/cases.toml): every form and attachment case is run
and its expected outcome asserted; upload cases are checked for completeness here and run
through the HTTP API by the application's tests."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from validators import (
    AttachmentPolicy,
    IssueCode,
    XmlLimits,
    check_attachment,
    validate_form,
)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "cases.toml").read_text("utf-8"))["case"]
KNOWN_KEYS = {
    "id", "applies_to", "file", "what", "outcome", "code", "line", "column", "path",
    "form_type", "max_bytes", "max_depth", "name", "media_type", "size_bytes", "must_not_contain",
}  # fmt: skip


def _cases(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in CASES if case["applies_to"] == kind]


def test_cases_file_is_consistent() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    codes = {code.value for code in IssueCode}
    for case in CASES:
        assert set(case) <= KNOWN_KEYS, case["id"]
        assert case["applies_to"] in {"form", "attachment", "upload"}, case["id"]
        assert case["outcome"] in {"accepted", "rejected"}, case["id"]
        assert case["what"].strip(), case["id"]
        if case["outcome"] == "rejected":
            assert case["code"] in codes, case["id"]
        if case["file"]:
            assert (CORPUS / case["file"]).is_file(), case["id"]
        else:
            assert case["applies_to"] == "upload" and case["size_bytes"] > 0, case["id"]


def test_every_corpus_file_is_used() -> None:
    used = {case["file"] for case in CASES}
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p.name != "cases.toml"}
    assert files <= used, f"files without a case: {sorted(files - used)}"


def test_the_issue_list_of_hostile_input_is_covered() -> None:
    ids = {case["id"] for case in CASES}
    for required in (
        "malformed-tag-mismatch", "billion-laughs", "xxe-etc-passwd", "dtd-internal-subset",
        "deep-10000", "wrong-namespace", "unknown-version", "valid-windows-1250",
        "invalid-utf8-bytes", "elf-named-pdf", "name-parent-traversal", "oversize-form",
        "upload-oversize", "upload-path-traversal-name",
    ):  # fmt: skip
        assert required in ids


@pytest.mark.parametrize("case", _cases("form"))
def test_form_case(case: dict[str, Any]) -> None:
    defaults = XmlLimits()
    limits = XmlLimits(
        max_bytes=case.get("max_bytes", defaults.max_bytes),
        max_depth=case.get("max_depth", defaults.max_depth),
    )
    result = validate_form((CORPUS / case["file"]).read_bytes(), limits=limits)
    serialised = json.dumps(result.to_dict(), ensure_ascii=False)
    if case["outcome"] == "accepted":
        assert result.ok, result.errors
        assert result.errors == ()
        assert result.form_type == case["form_type"]
        assert result.subject
    else:
        assert not result.ok
        assert result.errors, "a rejection must say why"
        first = result.errors[0]
        assert first.code == case["code"], first
        assert first.message.endswith("."), first.message
        if "line" in case:
            assert first.line == case["line"], first
        if "column" in case:
            assert first.column == case["column"], first
        if "path" in case:
            assert first.path == case["path"], first
    if "must_not_contain" in case:
        assert case["must_not_contain"] not in serialised


@pytest.mark.parametrize("case", _cases("attachment"))
def test_attachment_case(case: dict[str, Any]) -> None:
    data = (CORPUS / case["file"]).read_bytes()
    name = case.get("name", case["file"])
    check = check_attachment(name, data[:65536], len(data), AttachmentPolicy())
    if "media_type" in case:
        assert check.media_type == case["media_type"]
    if case["outcome"] == "accepted":
        assert check.ok, check.issues
        assert check.issues == ()
    else:
        assert not check.ok
        assert case["code"] in [issue.code for issue in check.issues], check.issues
        for issue in check.issues:
            assert issue.message.endswith("."), issue.message
    assert json.loads(json.dumps(check.to_dict())) == check.to_dict()


def test_executable_named_pdf_says_what_it_really_is() -> None:
    data = (CORPUS / "elf-named-pdf.bin").read_bytes()
    check = check_attachment("x.pdf", data, len(data), AttachmentPolicy())
    (issue,) = check.issues
    assert "named like a PDF document" in issue.message
    assert "executable" in issue.message
    assert "application/x-executable" in issue.message
