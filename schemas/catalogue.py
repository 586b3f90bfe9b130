"""The catalogue of form types, read from ``catalogue.toml`` next to this module.

The catalogue is trusted data shipped with the package; it is still checked strictly on load
(unknown keys, duplicates, missing XSD files are errors) so that a typo never goes unnoticed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from .errors import CatalogueError

PACKAGE_DIR = Path(__file__).resolve().parent
XSD_DIR = PACKAGE_DIR / "xsd"
CATALOGUE_FILE = PACKAGE_DIR / "catalogue.toml"

DeadlineRules = Literal["sr", "dr"]

_REQUIRED = (
    "code",
    "namespace",
    "version",
    "xsd",
    "name_cs",
    "name_en",
    "unsigned_allowed",
    "deadline_rules",
    "description",
)
_OPTIONAL = ("subject_xpath", "subject_fixed")


@dataclass(frozen=True)
class FormType:
    """One form type in one version, as listed in the catalogue.

    ``subject_xpath`` is an XPath 1.0 expression evaluated on the form's root element with the
    prefix ``f`` bound to :attr:`namespace`; otherwise ``subject_fixed`` is the subject.
    """

    code: str
    namespace: str
    version: str
    xsd: str
    name_cs: str
    name_en: str
    unsigned_allowed: bool
    deadline_rules: DeadlineRules
    description: str
    subject_xpath: str | None = None
    subject_fixed: str | None = None

    @property
    def xsd_path(self) -> Path:
        return XSD_DIR / self.xsd

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _form_type(entry: Mapping[str, Any], where: str) -> FormType:
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {', '.join(unknown)}.")
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise CatalogueError(f"{where}: missing keys {', '.join(missing)}.")
    for key in (*_REQUIRED, *_OPTIONAL):
        if key == "unsigned_allowed" or key not in entry:
            continue
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise CatalogueError(f"{where}: {key} must be a non-empty string.")
    if not isinstance(entry["unsigned_allowed"], bool):
        raise CatalogueError(f"{where}: unsigned_allowed must be true or false.")
    if entry["deadline_rules"] not in ("sr", "dr"):
        raise CatalogueError(
            f'{where}: deadline_rules must be "sr" or "dr", not {entry["deadline_rules"]!r}.'
        )
    if ("subject_xpath" in entry) == ("subject_fixed" in entry):
        raise CatalogueError(f"{where}: give exactly one of subject_xpath and subject_fixed.")
    form = FormType(**entry)
    if not form.xsd_path.is_file():
        raise CatalogueError(f"{where}: the XSD file {form.xsd} is not in {XSD_DIR}.")
    return form


def load_catalogue(path: Path = CATALOGUE_FILE) -> Mapping[str, FormType]:
    """Read and check a catalogue file; return its form types keyed by code (read-only)."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"The catalogue {path} cannot be read: {exc}.") from exc
    if set(data) - {"form"}:
        raise CatalogueError(f"The catalogue {path} has unknown top-level keys; only [[form]].")
    forms: dict[str, FormType] = {}
    seen: dict[tuple[str, str], str] = {}
    for index, entry in enumerate(data.get("form", []), start=1):
        where = f"{path.name}, form #{index} ({entry.get('code', '?')})"
        form = _form_type(entry, where)
        if form.code in forms:
            raise CatalogueError(f"{where}: the code {form.code} is listed twice.")
        key = (form.namespace, form.version)
        if key in seen:
            raise CatalogueError(
                f"{where}: namespace {form.namespace} version {form.version} is already "
                f"used by {seen[key]}."
            )
        forms[form.code] = form
        seen[key] = form.code
    return MappingProxyType(forms)
