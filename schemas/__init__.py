"""The XSDs of podatelna (form types, and later receipts and data-box envelopes) and the
catalogue of form types.

A form instance names its type by the namespace of its root element together with the root
element's ``verze`` attribute (e.g. ``<podani xmlns="urn:cz:podatelna:form:obecne-podani:1.0"
verze="1.0">``); :func:`form_type_for` maps that pair to a :class:`FormType`, whose XSD lives in
``schemas/xsd/``. This package only holds data and its catalogue: it parses no untrusted input.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .catalogue import PACKAGE_DIR, XSD_DIR, DeadlineRules, FormType, load_catalogue
from .errors import CatalogueError, SchemaFileNotFound, SchemasError

SAMPLES_DIR = PACKAGE_DIR / "samples"

__all__ = [
    "CatalogueError",
    "DeadlineRules",
    "FormType",
    "SchemaFileNotFound",
    "SchemasError",
    "catalogue",
    "form_name",
    "form_type_for",
    "load_catalogue",
    "sample_path",
    "schema_path",
]


@functools.cache
def catalogue() -> Mapping[str, FormType]:
    """The shipped form types keyed by code (read once, then cached; read-only)."""
    return load_catalogue()


@functools.cache
def _by_namespace() -> Mapping[tuple[str, str], FormType]:
    return MappingProxyType({(f.namespace, f.version): f for f in catalogue().values()})


#: filings that are not of a catalogued form type: a data-box message whose main file is not a
#: known form is filed under this code (see podatelna.databox)
DATABOX_MESSAGE = "datova-zprava"
_OTHER_NAMES = {DATABOX_MESSAGE: ("Datová zpráva", "Data-box message")}


def form_name(code: str | None, lang: str = "cs") -> str:
    """A filing's form type in words (Czech or English), for receipts and pages."""
    form = catalogue().get(code or "")
    if form is not None:
        return form.name_en if lang == "en" else form.name_cs
    other = _OTHER_NAMES.get(code or "")
    if other is not None:
        return other[1] if lang == "en" else other[0]
    return code or "—"


def form_type_for(namespace: str, version: str) -> FormType | None:
    """The form type whose root namespace and ``verze`` are these, or ``None``."""
    return _by_namespace().get((namespace, version))


def _packaged(directory: Path, file_name: str, what: str) -> Path:
    if not file_name or "/" in file_name or "\\" in file_name or file_name in (".", ".."):
        raise SchemaFileNotFound(f"{file_name!r} is not a plain file name of a {what}.")
    path = directory / file_name
    if not path.is_file():
        raise SchemaFileNotFound(f"The package ships no {what} named {file_name!r} in {directory}.")
    return path


def schema_path(file_name: str) -> Path:
    """Path of an XSD shipped in ``schemas/xsd/`` (e.g. ``"parkovani-1.0.xsd"``)."""
    return _packaged(XSD_DIR, file_name, "schema")


def sample_path(name: str) -> Path:
    """Path of a sample instance in ``schemas/samples/``; ``name`` with or without ``.xml``
    (e.g. ``"parkovani"`` or ``"invalid-parkovani-spatna-rz"``)."""
    file_name = name if name.endswith(".xml") else f"{name}.xml"
    return _packaged(SAMPLES_DIR, file_name, "sample")
