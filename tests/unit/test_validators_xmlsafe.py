"""The hardened parser: limits at their boundaries, encodings, DOCTYPE refusal."""

from __future__ import annotations

import pytest
from lxml import etree

from validators import ALLOWED_ENCODINGS, XmlLimits, XmlRejected, parse_untrusted


def nested(depth: int) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


def rejected(data: bytes, limits: XmlLimits = XmlLimits()) -> XmlRejected:
    with pytest.raises(XmlRejected) as info:
        parse_untrusted(data, limits)
    assert info.value.message.endswith(".")
    return info.value


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        XmlLimits(max_depth=257)
    with pytest.raises(ValueError, match="max_depth"):
        XmlLimits(max_depth=0)
    with pytest.raises(ValueError, match="max_bytes"):
        XmlLimits(max_bytes=0)


@pytest.mark.parametrize("limit", [1, 5, 64, 200, 255])
def test_own_depth_limit_boundary(limit: int) -> None:
    limits = XmlLimits(max_depth=limit)
    assert parse_untrusted(nested(limit), limits).getroot().tag == "a"
    error = rejected(nested(limit + 1), limits)
    assert error.code == "too_deep"
    assert str(limit) in error.message


def test_libxml2_depth_boundary_at_256() -> None:
    limits = XmlLimits(max_depth=256)
    parse_untrusted(nested(256), limits)
    assert rejected(nested(257), limits).code == "too_deep"
    error = rejected(nested(100_000), limits)
    assert error.code == "too_deep" and error.line == 1


def test_byte_limit_boundary() -> None:
    data = b"<a>" + b"x" * 93 + b"</a>"
    assert len(data) == 100
    parse_untrusted(data, XmlLimits(max_bytes=100))
    error = rejected(data, XmlLimits(max_bytes=99))
    assert error.code == "too_large" and "100 bytes" in error.message


@pytest.mark.parametrize("data", [b"", b"  \n\t"])
def test_empty(data: bytes) -> None:
    assert rejected(data).code == "malformed"


@pytest.mark.parametrize(
    "prolog",
    [
        b"<!DOCTYPE a>",
        b'<?xml version="1.0"?><!DOCTYPE a>',
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- x -->\n<?pi x?>\n<!DOCTYPE a [ ]>',
        b"<!doctype a>",
    ],
)
def test_any_doctype_is_refused(prolog: bytes) -> None:
    error = rejected(prolog + b"<a/>")
    assert error.code in ("doctype_forbidden", "malformed")
    if prolog != b"<!doctype a>":  # lower case is not a DOCTYPE to XML, only malformed
        assert error.code == "doctype_forbidden"


def test_doctype_inside_content_is_just_malformed() -> None:
    assert rejected(b"<a><!DOCTYPE b></a>").code == "malformed"


@pytest.mark.parametrize("name", sorted(ALLOWED_ENCODINGS))
def test_allowed_encodings_parse(name: str) -> None:
    codec = ALLOWED_ENCODINGS[name]
    text = {"ascii": "Tak", "latin-1": "Café", "cp1252": "Café"}.get(codec, "Žluťoučký")
    data = f'<?xml version="1.0" encoding="{name}"?><a>{text}</a>'.encode(codec)
    assert parse_untrusted(data).getroot().text == text


@pytest.mark.parametrize("name", ["UTF-7", "EBCDIC-US", "KOI8-R", "klingon", "UTF-32"])
def test_other_declared_encodings_are_refused(name: str) -> None:
    error = rejected(f'<?xml version="1.0" encoding="{name}"?><a/>'.encode("ascii"))
    assert error.code == "bad_encoding"
    assert name.upper() in error.message
    assert error.line == 1 and error.column == 31


def test_utf32_is_refused() -> None:
    error = rejected('<?xml version="1.0" encoding="UTF-32"?><a/>'.encode("utf-32"))
    assert error.code == "bad_encoding"


def test_bad_bytes_position_counts_characters() -> None:
    data = "<a>\n  čeština \xff</a>".encode().replace(b"\xc3\xbf", b"\xff")
    error = rejected(data)
    assert error.code == "bad_encoding"
    assert (error.line, error.column) == (2, 11)  # '  čeština ' is 10 characters (12 bytes)


def test_content_before_the_root_element() -> None:
    error = rejected(b"garbage<a/>")
    assert error.code == "malformed" and error.line == 1


def test_prolog_without_root_element() -> None:
    error = rejected(b'<?xml version="1.0"?>\n<!-- jen komentar -->\n')
    assert error.code == "malformed" and "no root element" in error.message


def test_no_entity_is_expanded_and_no_file_is_read() -> None:
    assert rejected(b"<a>&ext;</a>").code == "malformed"
    tree = parse_untrusted(b"<a>&amp;&#x17E;</a>")
    assert tree.getroot().text == "&ž"


def test_returns_a_tree_with_line_numbers() -> None:
    tree = parse_untrusted(b'<?xml version="1.0"?>\n<a>\n  <b/>\n</a>')
    assert isinstance(tree, etree._ElementTree)
    assert tree.getroot()[0].sourceline == 3
