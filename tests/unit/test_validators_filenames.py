"""safe_filename: plain names pass (NFC), path tricks are refused with a clear error."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from validators import UnsafeFilename, ValidatorError, safe_filename


@pytest.mark.parametrize(
    "name",
    [
        "žádost.pdf",
        "Smlouva o dílo – příloha č. 1.docx",
        "scan 2026-11-20 (1).jpg",
        ".htaccess-like name.txt",
        "a" * 251 + ".pdf",
        "výpis_z_KN.PDF",
    ],
)
def test_plain_names_pass(name: str) -> None:
    assert safe_filename(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "directory"),
        ("..", "directory"),
        ("../etc/passwd", "separator"),
        ("/etc/passwd", "separator"),
        ("a/b.pdf", "separator"),
        ("..\\..\\boot.ini", "separator"),
        ("C:\\x.pdf", "separator"),
        ("C:x.pdf", "':'"),
        ("zprava.txt:skryty", "':'"),
        ("a..b.pdf", "'..'"),
        ("x.pdf\x00.exe", "U+0000"),
        ("x\n.pdf", "U+000A"),
        ("x\x7f.pdf", "U+007F"),
        ("faktura\u202efdp.exe", "U+202E"),
        ("zero\u200bwidth.pdf", "U+200B"),
        ("x.pdf.", "ends with a dot"),
        (" x.pdf", "space"),
        ("x.pdf ", "space"),
        ("NUL", "device"),
        ("com1.txt", "device"),
        ("LPT9.pdf", "device"),
        ("a" * 252 + ".pdf", "255 bytes"),
        ("ž" * 128, "255 bytes"),
    ],
)
def test_path_tricks_are_refused(name: str, why: str) -> None:
    with pytest.raises(UnsafeFilename) as info:
        safe_filename(name)
    assert info.value.code == "unsafe_filename"
    assert why in info.value.message
    assert info.value.message.startswith("The file name ")
    assert isinstance(info.value, ValidatorError)


@given(st.text(min_size=0, max_size=300))
def test_whatever_is_returned_is_a_plain_name(name: str) -> None:
    try:
        result = safe_filename(name)
    except UnsafeFilename:
        return
    assert "/" not in result and "\\" not in result
    assert ".." not in result
    assert "\x00" not in result
    assert result not in ("", ".", "..")
    assert len(result.encode("utf-8")) <= 255
    assert not any(
        unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in result
    )
    assert safe_filename(result) == result


@given(
    st.lists(
        st.sampled_from(["..", ".", "a", "ž", "/", "\\", "x.pdf", "%2e", "C:"]),
        min_size=1,
        max_size=8,
    )
)
def test_joined_path_pieces_never_escape(pieces: list[str]) -> None:
    name = "".join(pieces)
    try:
        result = safe_filename(name)
    except UnsafeFilename:
        return
    assert "/" not in result and "\\" not in result and ".." not in result
