"""HTML forms generated from a form type's XSD, and the XML built back from what was filled in.

Only *simple* form types get a generated form: their XSD is a tree of sequences of elements
that occur at most once, with no choices, repetitions or attributes other than the root's
``verze``. Anything richer (a list of plots, a choice of sender kinds) is sent as an uploaded
XML file instead; :func:`generated_form` answers ``None`` for such types.

The XML built here is not trusted either: it goes through the same hardened XSD validation as an
uploaded file before it is filed, so a field the browser let through but the schema refuses is
shown with its error, in place.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import xmlschema
from lxml import etree

import schemas

#: field values longer than this are refused before any XML is built
MAX_VALUE = 5000


@dataclass(frozen=True)
class Field:
    path: str  # "zadatel.jmeno": the field's name in the HTML form
    name: str  # the element's local name
    label: str
    required: bool
    kind: str  # text | textarea | date | number | select
    options: tuple[str, ...] = ()
    max_length: int | None = None


@dataclass(frozen=True)
class Group:
    path: str
    name: str
    label: str
    required: bool
    children: tuple[Field | Group, ...]


@dataclass(frozen=True)
class GeneratedForm:
    code: str
    root: str
    namespace: str
    version: str
    children: tuple[Field | Group, ...]

    def fields(self) -> list[Field]:
        out: list[Field] = []

        def walk(items: tuple[Field | Group, ...]) -> None:
            for item in items:
                if isinstance(item, Group):
                    walk(item.children)
                else:
                    out.append(item)

        walk(self.children)
        return out


class NotSimple(Exception):
    pass


def _label(element: Any) -> str:
    """The element's documentation, else its camelCase name in words."""
    for annotated in (element, element.type):
        ann = getattr(annotated, "annotation", None)
        if ann is not None and ann.documentation:
            text = " ".join((ann.documentation[0].text or "").split())
            if text and len(text) <= 80:
                return text.rstrip(".")
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", element.local_name).lower()
    return words[:1].upper() + words[1:]


def _kind(simple: Any) -> tuple[str, tuple[str, ...], int | None]:
    enumeration = getattr(simple, "enumeration", None)
    if enumeration:
        return "select", tuple(str(v) for v in enumeration), None
    primitive = simple.primitive_type.local_name if hasattr(simple, "primitive_type") else ""
    max_length = getattr(simple, "max_length", None)
    if primitive == "date":
        return "date", (), None
    if primitive in ("decimal", "integer", "float", "double"):
        return "number", (), None
    if max_length is not None and max_length > 200:
        return "textarea", (), max_length
    return "text", (), max_length


def _children(element: Any, prefix: str) -> tuple[Field | Group, ...]:
    content = element.type.content
    if getattr(content, "model", None) != "sequence":
        raise NotSimple(f"{element.local_name} is not a sequence")
    out: list[Field | Group] = []
    for child in content:
        if not isinstance(child, xmlschema.XsdElement) or child.max_occurs != 1:
            raise NotSimple(f"{getattr(child, 'local_name', child)} repeats or is a group")
        path = f"{prefix}{child.local_name}"
        if child.type.is_simple():
            kind, options, max_length = _kind(child.type)
            out.append(
                Field(
                    path,
                    child.local_name,
                    _label(child),
                    child.min_occurs > 0,
                    kind,
                    options,
                    max_length,
                )
            )
        else:
            if child.attributes or child.type.has_mixed_content():
                raise NotSimple(f"{child.local_name} has attributes or mixed content")
            out.append(
                Group(
                    path,
                    child.local_name,
                    _label(child),
                    child.min_occurs > 0,
                    _children(child, path + "."),
                )
            )
    return tuple(out)


@functools.cache
def generated_form(code: str) -> GeneratedForm | None:
    """The generated form of form type ``code``, or ``None`` if it is unknown or not simple."""
    form = schemas.catalogue().get(code)
    if form is None:
        return None
    schema = xmlschema.XMLSchema(str(form.xsd_path))
    (root,) = schema.elements.values()
    if set(root.attributes) != {"verze"}:
        return None
    try:
        children = _children(root, "")
    except NotSimple:
        return None
    return GeneratedForm(form.code, root.local_name, form.namespace, form.version, children)


def simple_codes() -> list[str]:
    return [code for code in schemas.catalogue() if generated_form(code) is not None]


def build_xml(form: GeneratedForm, values: Mapping[str, str]) -> bytes:
    """The form's XML from the filled-in ``values`` (keyed by field path); empty optional
    fields and optional groups left wholly empty are left out."""
    ns = form.namespace

    def fill(parent: etree._Element, items: tuple[Field | Group, ...]) -> bool:
        wrote = False
        for item in items:
            if isinstance(item, Group):
                el = etree.Element(f"{{{ns}}}{item.name}")
                if fill(el, item.children) or item.required:
                    parent.append(el)
                    wrote = True
                continue
            value = (values.get(item.path) or "").strip()[:MAX_VALUE]
            if value or item.required:
                etree.SubElement(parent, f"{{{ns}}}{item.name}").text = value
                wrote = wrote or bool(value)
        return wrote

    root = etree.Element(f"{{{ns}}}{form.root}", nsmap={None: ns})
    root.set("verze", form.version)
    fill(root, form.children)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
