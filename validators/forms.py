"""Validation of a submitted form against the XSD of its form type.

The form is parsed by :func:`validators.xmlsafe.parse_untrusted` (see its threat model); the
root element's namespace and ``verze`` attribute pick the form type from the catalogue in
:mod:`schemas`; the document is validated with libxml2 (lxml ``XMLSchema``), the schema being
compiled once per form type and thread. Nothing in the form can choose the schema other than
through the catalogue: ``xsi:schemaLocation`` and similar hints are ignored.

The result is a frozen :class:`FormValidation`; only a programming error raises.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

import schemas

from ._positions import ColumnFinder
from .errors import IssueCode, XmlRejected
from .issues import ValidationIssue
from .xmlsafe import XmlLimits, parse_untrusted

#: at most this many XSD errors are reported for one form (the rest are counted)
MAX_ISSUES = 50
#: subjects longer than this are cut (with an ellipsis)
MAX_SUBJECT_CHARS = 255


@dataclass(frozen=True)
class FormValidation:
    """The outcome of validating one form: ``ok`` is the bottom line.

    ``form_type``, ``namespace`` and ``version`` are filled as far as they could be read;
    ``subject`` is filled (best effort, also for an invalid form) whenever the form type is
    known and its subject expression yields text.
    """

    ok: bool
    form_type: str | None
    namespace: str | None
    version: str | None
    subject: str | None
    errors: tuple[ValidationIssue, ...] = ()

    def summary(self) -> str:
        if self.ok:
            return f"valid {self.form_type} {self.version}: {self.subject or '(no subject)'}"
        first = self.errors[0].message if self.errors else "no details"
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"rejected: {first}{more}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "form_type": self.form_type,
            "namespace": self.namespace,
            "version": self.version,
            "subject": self.subject,
            "errors": [issue.to_dict() for issue in self.errors],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FormValidation:
        return cls(
            ok=bool(data["ok"]),
            form_type=data.get("form_type"),
            namespace=data.get("namespace"),
            version=data.get("version"),
            subject=data.get("subject"),
            errors=tuple(ValidationIssue.from_dict(e) for e in data.get("errors", ())),
        )


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.schemas: dict[str, etree.XMLSchema] = {}
        self.subjects: dict[str, etree.XPath] = {}


_local = _PerThread()
#: libxml2's schema compiler is not safe to run in two threads at once (it fails with
#: "xmlSchemaPValAttrNodeValue ... not a built-in type"); compilation is rare, so serialise it.
_compile_lock = threading.Lock()


def _schema(form: schemas.FormType) -> etree.XMLSchema:
    schema = _local.schemas.get(form.code)
    if schema is None:
        # The XSDs are trusted files of this package; imports resolve relative to them.
        with _compile_lock:
            schema = etree.XMLSchema(etree.parse(str(form.xsd_path)))
        _local.schemas[form.code] = schema
    return schema


def _subject(form: schemas.FormType, root: etree._Element) -> str | None:
    if form.subject_fixed is not None:
        return form.subject_fixed
    if form.subject_xpath is None:
        return None
    expression = _local.subjects.get(form.code)
    if expression is None:
        expression = etree.XPath(form.subject_xpath, namespaces={"f": form.namespace})
        _local.subjects[form.code] = expression
    value = expression(root)
    if isinstance(value, list):
        value = " ".join(
            item.text or "" if isinstance(item, etree._Element) else str(item) for item in value
        )
    text = " ".join(str(value).split())
    if not text:
        return None
    if len(text) > MAX_SUBJECT_CHARS:
        text = text[: MAX_SUBJECT_CHARS - 1] + "…"
    return text


def _unknown_form_issue(namespace: str | None, version: str | None, root: etree._Element) -> str:
    local = etree.QName(root).localname
    if not namespace:
        return (
            f"The root element <{local}> has no namespace, so the form type cannot be "
            "recognised; forms name their type by the namespace of the root element."
        )
    known = sorted(f.version for f in schemas.catalogue().values() if f.namespace == namespace)
    if version is None:
        return (
            f"The root element <{local}> has no verze attribute; the form version must be "
            f"given (known versions of {namespace}: {', '.join(known) or 'none'})."
        )
    if known:
        return (
            f"Version {version} of the form {namespace} is not accepted; accepted versions: "
            f"{', '.join(known)}."
        )
    return f"The namespace {namespace} of the root element <{local}> is no known form type."


def _schema_issues(
    schema: etree.XMLSchema, tree: etree._ElementTree, data: bytes, namespace: str
) -> tuple[ValidationIssue, ...]:
    finder = ColumnFinder(tree, data)
    entries = list(schema.error_log)
    issues: list[ValidationIssue] = []
    for entry in entries[:MAX_ISSUES]:
        column = entry.column or None
        path = entry.path or None
        if column is None and path:
            found = tree.xpath(path)
            if isinstance(found, list) and found and isinstance(found[0], etree._Element):
                column = finder.column(found[0])
        # The form's own namespace is implied; keep the message readable.
        message = entry.message.replace("{" + namespace + "}", "").strip()
        where = f"Line {entry.line}" + (f", column {column}" if column else "")
        issues.append(
            ValidationIssue(
                code=IssueCode.SCHEMA_INVALID.value,
                message=f"{where}: {message}",
                line=entry.line or None,
                column=column,
                path=path,
            )
        )
    if len(entries) > MAX_ISSUES:
        issues.append(
            ValidationIssue(
                code=IssueCode.SCHEMA_INVALID.value,
                message=f"{len(entries) - MAX_ISSUES} further errors are not listed.",
            )
        )
    return tuple(issues)


def validate_form(data: bytes, *, limits: XmlLimits = XmlLimits()) -> FormValidation:
    """Parse ``data`` hardened, find its form type and validate it against the type's XSD."""
    try:
        tree = parse_untrusted(data, limits)
    except XmlRejected as exc:
        issue = ValidationIssue(exc.code, exc.message, exc.line, exc.column)
        return FormValidation(False, None, None, None, None, (issue,))
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    version = root.get("verze")
    form = schemas.form_type_for(namespace, version) if namespace and version else None
    if form is None:
        finder = ColumnFinder(tree, data)
        issue = ValidationIssue(
            IssueCode.UNKNOWN_FORM_TYPE.value,
            _unknown_form_issue(namespace, version, root),
            root.sourceline,
            finder.column(root),
            "/*",
        )
        return FormValidation(False, None, namespace, version, None, (issue,))
    schema = _schema(form)
    ok = schema.validate(tree)
    errors = () if ok else _schema_issues(schema, tree, data, namespace)
    return FormValidation(ok, form.code, namespace, version, _subject(form, root), errors)


def canonical_form_bytes(data: bytes, *, limits: XmlLimits = XmlLimits()) -> bytes:
    """Canonical XML 1.0 without comments (UTF-8) of the form, parsed hardened; raises
    :class:`~validators.errors.XmlRejected` when the form is refused by the parser.

    Two filings with equal canonical bytes have the same content whatever their encoding,
    XML declaration, attribute quoting, comments or white space inside tags."""
    tree = parse_untrusted(data, limits)
    return etree.tostring(tree, method="c14n", with_comments=False)
