"""Plain-words summaries of verdicts, in Czech and English, for receipts and the portal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report import DocumentReport, SignatureReport

__all__ = ["document_summary", "signature_summary"]

_KIND = {
    "cs": {
        "QESig": "kvalifikovaný elektronický podpis",
        "QESeal": "kvalifikovaná elektronická pečeť",
        "AdESig-QC": "zaručený elektronický podpis založený na kvalifikovaném certifikátu",
        "AdESeal-QC": "zaručená elektronická pečeť založená na kvalifikovaném certifikátu",
        "AdESig": "zaručený elektronický podpis bez kvalifikovaného certifikátu",
        "AdESeal": "zaručená elektronická pečeť bez kvalifikovaného certifikátu",
        "Indeterminate": "podpis, jehož platnost nelze potvrdit",
        "NotAdES": "neplatný podpis",
    },
    "en": {
        "QESig": "qualified electronic signature",
        "QESeal": "qualified electronic seal",
        "AdESig-QC": "advanced electronic signature based on a qualified certificate",
        "AdESeal-QC": "advanced electronic seal based on a qualified certificate",
        "AdESig": "advanced electronic signature without a qualified certificate",
        "AdESeal": "advanced electronic seal without a qualified certificate",
        "Indeterminate": "signature whose validity cannot be confirmed",
        "NotAdES": "invalid signature",
    },
}

_TEXT = {
    "cs": {
        "by": "podepsal(a)",
        "at": "v čase",
        "recognised": "Uznávaný podpis: podání je podepsáno.",
        "not_recognised": "Nejde o uznávaný podpis: podání je třeba do pěti dnů potvrdit.",
        "none": "Soubor {name} neobsahuje žádný elektronický podpis.",
        "file": "Soubor {name}",
        "illegal": "Dokument byl po podpisu nepřípustně změněn.",
        "partial": "Podpis nepokrývá celý dokument.",
        "ts": "čas podpisu prokázán časovým razítkem",
    },
    "en": {
        "by": "signed by",
        "at": "at",
        "recognised": "Recognised signature: the filing counts as signed.",
        "not_recognised": "Not a recognised signature: the filing must be confirmed within five"
        " days.",
        "none": "The file {name} carries no electronic signature.",
        "file": "File {name}",
        "illegal": "The document was changed in a way not allowed after signing.",
        "partial": "The signature does not cover the whole document.",
        "ts": "signing time proven by a timestamp",
    },
}


def _lang(lang: str) -> str:
    if lang not in _TEXT:
        raise ValueError(f"Unknown summary language {lang!r}; use 'cs' or 'en'.")
    return lang


def signature_summary(sig: SignatureReport, lang: str = "cs") -> str:
    lang = _lang(lang)
    text = _TEXT[lang]
    kind = _KIND[lang][sig.qualification]
    parts = [f"{sig.format} {sig.level}: {kind}"]
    if sig.signer:
        parts[0] += f", {text['by']} {sig.signer.subject}"
    if sig.signing_time:
        parts[0] += f", {text['at']} {sig.signing_time}"
        if sig.timestamp:
            parts[0] += f" ({text['ts']})"
    parts[0] += "."
    if sig.modifications == "illegal":
        parts.append(text["illegal"])
    elif not sig.covers_whole_document:
        parts.append(text["partial"])
    if sig.reasons and not sig.recognised:
        parts.append(" ".join(sig.reasons))
    parts.append(text["recognised"] if sig.recognised else text["not_recognised"])
    return " ".join(parts)


def document_summary(doc: DocumentReport, lang: str = "cs") -> str:
    lang = _lang(lang)
    text = _TEXT[lang]
    if not doc.signatures:
        msg = text["none"].format(name=doc.name)
        return f"{msg} {doc.problem}" if doc.problem else msg
    head = text["file"].format(name=doc.name)
    return "\n".join(f"{head}: {s.summary(lang)}" for s in doc.signatures)
