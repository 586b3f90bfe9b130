"""Hardened parsing of untrusted XML (forms sent by anyone on the internet).

Threat model: the bytes come from an anonymous sender and may be crafted to exhaust memory or
CPU (billion laughs, quadratic blow-up, deep nesting, huge text), to read local files or reach
the network (external entities, external DTDs, XInclude), or to confuse later steps (odd
encodings such as UTF-7, content before the root element). The defences:

* a byte limit checked before anything is parsed (:attr:`XmlLimits.max_bytes`);
* **any DOCTYPE is refused**: the prolog is scanned before parsing and the parsed document is
  checked again (defence in depth), so no DTD, internal subset or entity declaration is ever
  processed; entities are not resolved, DTDs not loaded, the network is off, and
  ``huge_tree`` is off, which keeps libxml2's own limits (text nodes, names, depth 256);
* element depth is measured on the tree (an XPath existence check of depth ``max_depth + 1``)
  and, beyond 256, refused by libxml2 while parsing, before any deep tree exists: a
  10,000-deep nesting is an error, never a recursion crash;
* only UTF-8 (the default), UTF-16 and a short list of single-byte encodings used for Czech
  text may be declared (:data:`ALLOWED_ENCODINGS`); bytes that are invalid in the declared
  encoding are an error with their line and column.

Not guaranteed: this module neither validates against a schema (see :mod:`validators.forms`)
nor bounds the number of elements or attributes other than through the byte limit; processing
instructions and comments are kept in the tree (they are inert for us); ``xsi:schemaLocation``
hints are never followed because validation always uses the catalogue's XSD.

The parser and compiled XPath objects are kept per thread.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree

from .errors import IssueCode, XmlRejected

#: libxml2's own depth limit when huge_tree is off; deeper limits cannot be honoured.
LIBXML2_MAX_DEPTH = 256

#: Declared encodings accepted (upper case) mapped to the Python codec used to locate bad bytes.
ALLOWED_ENCODINGS: dict[str, str] = {
    "UTF-8": "utf-8",
    "UTF8": "utf-8",
    "UTF-16": "utf-16",
    "US-ASCII": "ascii",
    "ASCII": "ascii",
    "ISO-8859-1": "latin-1",
    "ISO-8859-2": "iso8859-2",
    "ISO_8859-2": "iso8859-2",
    "LATIN2": "iso8859-2",
    "WINDOWS-1250": "cp1250",
    "CP1250": "cp1250",
    "WINDOWS-1252": "cp1252",
    "CP1252": "cp1252",
}


@dataclass(frozen=True)
class XmlLimits:
    """Explicit limits on one untrusted XML document."""

    max_bytes: int = 5 * 1024 * 1024
    #: the root element is at depth 1; an element at depth ``max_depth + 1`` is refused
    max_depth: int = 64

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError("XmlLimits.max_bytes must be at least 1.")
        if not 1 <= self.max_depth <= LIBXML2_MAX_DEPTH:
            raise ValueError(
                f"XmlLimits.max_depth must be between 1 and {LIBXML2_MAX_DEPTH} "
                "(libxml2 refuses deeper documents when huge_tree is off)."
            )


# The prolog: optional BOM, then XML declaration, comments, processing instructions and white
# space. The regex never fails (everything is optional), so it cannot backtrack catastrophically.
_PROLOG_BYTES = re.compile(rb"(?:\xef\xbb\xbf)?(?:[ \t\r\n]+|<!--.*?-->|<\?.*?\?>)*", re.S)
_PROLOG_TEXT = re.compile(r"\ufeff?(?:[ \t\r\n]+|<!--.*?-->|<\?.*?\?>)*", re.S)
_DECL_ENCODING = re.compile(
    rb"\A(?:\xef\xbb\xbf)?<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*"
    rb"[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']"
)
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.parser: etree.XMLParser | None = None
        self.depth_probes: dict[int, etree.XPath] = {}


_local = _PerThread()


def _parser() -> etree.XMLParser:
    parser = _local.parser
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def _too_deep_element(tree: etree._ElementTree, depth: int) -> etree._Element | None:
    """The first element at ``depth`` (root = 1), or ``None``; runs in libxml2's C code."""
    probe = _local.depth_probes.get(depth)
    if probe is None:
        probe = etree.XPath("(" + "/*" * depth + ")[1]")
        _local.depth_probes[depth] = probe
    found = probe(tree)
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return found[0]
    return None


def _utf16_codec(data: bytes) -> str | None:
    if data.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        return "utf-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if data.startswith(b"<\x00?\x00") or data.startswith(b"<\x00") and data[3:4] == b"\x00":
        return "utf-16-le"
    if data.startswith(b"\x00<"):
        return "utf-16-be"
    return None


def _check_prolog(data: bytes) -> tuple[str, str]:
    """Refuse DOCTYPEs and unknown encodings before libxml2 sees the document; return the
    Python codec of the document and the encoding's name as declared."""
    wide = _utf16_codec(data)
    if wide == "utf-32":
        raise XmlRejected(
            "The form is encoded in UTF-32, which is not accepted; send it in UTF-8.",
            code=IssueCode.BAD_ENCODING,
            line=1,
            column=1,
        )
    if wide is not None:
        text = data.decode(wide, errors="replace")
        match = _PROLOG_TEXT.match(text)
        end = match.end() if match else 0
        rest = text[end : end + 9].upper()
        codec = name = "utf-16"
        next_char = text[end : end + 1]
    else:
        declared = _DECL_ENCODING.match(data)
        codec, name = "utf-8", "UTF-8"
        if declared:
            name = declared.group(1).decode("ascii").upper()
            if name not in ALLOWED_ENCODINGS:
                raise XmlRejected(
                    f"The form declares the encoding {name}, which is not accepted; send it in "
                    "UTF-8 (or windows-1250 / ISO-8859-2).",
                    code=IssueCode.BAD_ENCODING,
                    line=1,
                    column=declared.start(1) + 1,
                )
            codec = ALLOWED_ENCODINGS[name]
        bmatch = _PROLOG_BYTES.match(data)
        end = bmatch.end() if bmatch else 0
        rest = data[end : end + 9].decode("latin-1").upper()
        next_char = data[end : end + 1].decode("latin-1")
        text = None
    if rest.startswith("<!DOCTYPE"):
        prefix = text[:end] if text is not None else data[:end].decode("latin-1")
        line = prefix.count("\n") + 1
        raise XmlRejected(
            "The form contains a document type declaration (<!DOCTYPE>); DTDs and entity "
            "declarations are not accepted in filings.",
            code=IssueCode.DOCTYPE_FORBIDDEN,
            line=line,
            column=end - (prefix.rfind("\n") + 1) + 1,
        )
    if next_char != "<":
        raise XmlRejected(
            "The form has no root element after its XML declaration and comments."
            if not next_char
            else "The form does not start with an XML declaration or an element; it is not "
            "XML in an accepted encoding.",
            code=IssueCode.MALFORMED,
            line=1,
            column=1,
        )
    return codec, name


def _bad_bytes_position(data: bytes, codec: str) -> tuple[int, int] | None:
    """Line and column (1-based, in characters) of the first byte invalid in ``codec``."""
    if codec.startswith("utf-16"):
        return None
    try:
        data.decode(codec)
    except UnicodeDecodeError as exc:
        start = exc.start
    else:
        return None
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode(codec, errors="replace")) + 1
    return line, column


def _rejected_from_syntax_error(
    exc: etree.XMLSyntaxError, data: bytes, codec: str, name: str, limits: XmlLimits
) -> XmlRejected:
    line, column = exc.position if exc.position else (None, None)
    message = _POSITION_SUFFIX.sub("", str(exc.msg or "").strip())
    types = etree.ErrorTypes
    if exc.code in (types.ERR_INVALID_ENCODING, types.ERR_UNSUPPORTED_ENCODING):
        where = _bad_bytes_position(data, codec)
        if where is not None:
            line, column = where
        return XmlRejected(
            f"The form contains bytes that are not valid {name} at line {line}, column "
            f"{column}; declare the encoding the file is really in, or send it in UTF-8.",
            code=IssueCode.BAD_ENCODING,
            line=line,
            column=column,
        )
    if exc.code == types.ERR_RESOURCE_LIMIT:
        if "depth" in message.lower():
            return XmlRejected(
                f"The form nests elements more than {limits.max_depth} levels deep (line "
                f"{line}); no form type needs more than a few levels.",
                code=IssueCode.TOO_DEEP,
                line=line,
                column=column,
            )
        return XmlRejected(
            f"The form exceeds a parser limit at line {line}, column {column}: {message}.",
            code=IssueCode.TOO_LARGE,
            line=line,
            column=column,
        )
    return XmlRejected(
        f"The form is not well-formed XML: {message} (line {line}, column {column}).",
        code=IssueCode.MALFORMED,
        line=line,
        column=column,
    )


def parse_untrusted(data: bytes, limits: XmlLimits = XmlLimits()) -> etree._ElementTree:
    """Parse untrusted XML under :class:`XmlLimits`; raise :class:`XmlRejected` if refused."""
    if len(data) > limits.max_bytes:
        raise XmlRejected(
            f"The form has {len(data):,} bytes, more than the limit of {limits.max_bytes:,}.",
            code=IssueCode.TOO_LARGE,
        )
    if not data.strip():
        raise XmlRejected("The form is empty.", code=IssueCode.MALFORMED, line=1, column=1)
    codec, name = _check_prolog(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise _rejected_from_syntax_error(exc, data, codec, name, limits) from None
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise XmlRejected(
            "The form contains a document type declaration; DTDs are not accepted in filings.",
            code=IssueCode.DOCTYPE_FORBIDDEN,
        )
    # A document cannot be deeper than it has "<" characters: skip the probe for small ones.
    if limits.max_depth < LIBXML2_MAX_DEPTH and data.count(b"<") > limits.max_depth:
        deep = _too_deep_element(tree, limits.max_depth + 1)
        if deep is not None:
            raise XmlRejected(
                f"The form nests elements more than {limits.max_depth} levels deep (line "
                f"{deep.sourceline}).",
                code=IssueCode.TOO_DEEP,
                line=deep.sourceline,
            )
    return tree
