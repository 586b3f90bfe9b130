"""The XSDs of our documents (in ``schemas/xsd/``) and validation of their XML against them."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from lxml import etree

import schemas

#: document kind -> XSD file name
XSD_FILES = {
    "receipt": "receipt-1.0.xsd",
    "rejection": "rejection-1.0.xsd",
    "copy": "copy-1.0.xsd",
    "personal-export": "export-personal-1.0.xsd",
    "journal": "journal-1.0.xsd",
    "delivery-info": "delivery-info-1.0.xsd",
}
_lock = threading.Lock()


def xsd_path(kind: str) -> Path:
    return Path(schemas.__file__).parent / "xsd" / XSD_FILES[kind]


@cache
def _schema(kind: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(xsd_path(kind)), parser))


def xml_errors(kind: str, data: bytes) -> list[str]:
    """Validation errors of ``data`` against the XSD of ``kind`` (empty when valid)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    doc = etree.fromstring(data, parser)
    with _lock:  # an lxml XMLSchema object is not safe to share between threads
        schema = _schema(kind)
        ok = schema.validate(doc)
        errors = [f"{e.line}:{e.column}: {e.message}" for e in schema.error_log]
    return [] if ok else errors
