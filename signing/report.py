"""Verification reports: frozen, JSON-serialisable, with a plain-words summary (cs/en).

A :class:`SignatureReport` is the verdict on one signature; a :class:`DocumentReport` collects
the signatures found in one file; a :class:`SubmissionReport` the files of one submission. The
JSON shape of ``DocumentReport.to_dict()`` is the one printed by ``podatelna verify --json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import summary as _summary

__all__ = [
    "INDICATIONS",
    "QUALIFICATIONS",
    "RECOGNISED_QUALIFICATIONS",
    "DocumentReport",
    "SignatureReport",
    "SignerInfo",
    "SubmissionReport",
    "TimestampInfo",
]

TOTAL_PASSED = "TOTAL_PASSED"
TOTAL_FAILED = "TOTAL_FAILED"
INDETERMINATE = "INDETERMINATE"
INDICATIONS = (TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE)
QUALIFICATIONS = (
    "QESig",
    "QESeal",
    "AdESig-QC",
    "AdESeal-QC",
    "AdESig",
    "AdESeal",
    "Indeterminate",
    "NotAdES",
)
#: the qualifications that make a signature *recognised* (Act 297/2016 § 6, eIDAS art. 25-26)
RECOGNISED_QUALIFICATIONS = frozenset({"QESig", "QESeal", "AdESig-QC", "AdESeal-QC"})


@dataclass(frozen=True)
class SignerInfo:
    subject: str
    issuer: str
    serial: str

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "issuer": self.issuer, "serial": self.serial}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignerInfo:
        return cls(subject=d["subject"], issuer=d["issuer"], serial=d["serial"])


@dataclass(frozen=True)
class TimestampInfo:
    """The signature timestamp that proves the signing time."""

    time: str
    tsa: str
    indication: str
    qualified: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "tsa": self.tsa,
            "indication": self.indication,
            "qualified": self.qualified,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TimestampInfo:
        return cls(
            time=d["time"], tsa=d["tsa"], indication=d["indication"], qualified=d["qualified"]
        )


@dataclass(frozen=True)
class SignatureReport:
    """The verdict on one signature."""

    format: str
    level: str
    indication: str
    subindication: str | None
    qualification: str
    signer: SignerInfo | None
    signing_time: str | None
    timestamp: TimestampInfo | None
    covers_whole_document: bool
    modifications: str
    reasons: tuple[str, ...] = ()

    @property
    def recognised(self) -> bool:
        """TOTAL_PASSED, a recognised qualification, and covering the whole document."""
        return (
            self.indication == TOTAL_PASSED
            and self.qualification in RECOGNISED_QUALIFICATIONS
            and self.covers_whole_document
            and self.modifications != "illegal"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "level": self.level,
            "indication": self.indication,
            "subindication": self.subindication,
            "qualification": self.qualification,
            "signer": self.signer.to_dict() if self.signer else None,
            "signing_time": self.signing_time,
            "timestamp": self.timestamp.to_dict() if self.timestamp else None,
            "covers_whole_document": self.covers_whole_document,
            "modifications": self.modifications,
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignatureReport:
        return cls(
            format=d["format"],
            level=d["level"],
            indication=d["indication"],
            subindication=d.get("subindication"),
            qualification=d["qualification"],
            signer=SignerInfo.from_dict(d["signer"]) if d.get("signer") else None,
            signing_time=d.get("signing_time"),
            timestamp=TimestampInfo.from_dict(d["timestamp"]) if d.get("timestamp") else None,
            covers_whole_document=d["covers_whole_document"],
            modifications=d["modifications"],
            reasons=tuple(d.get("reasons", ())),
        )

    def summary(self, lang: str = "cs") -> str:
        return _summary.signature_summary(self, lang)


@dataclass(frozen=True)
class DocumentReport:
    """The signatures found in one file (``signs`` names the file a detached one signs)."""

    name: str
    signatures: tuple[SignatureReport, ...]
    signs: str | None = None
    problem: str | None = None

    @property
    def recognised(self) -> bool:
        return any(s.recognised for s in self.signatures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "signs": self.signs,
            "recognised": self.recognised,
            "problem": self.problem,
            "signatures": [s.to_dict() for s in self.signatures],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DocumentReport:
        return cls(
            name=d["name"],
            signs=d.get("signs"),
            problem=d.get("problem"),
            signatures=tuple(SignatureReport.from_dict(s) for s in d.get("signatures", ())),
        )

    def summary(self, lang: str = "cs") -> str:
        return _summary.document_summary(self, lang)


@dataclass(frozen=True)
class SubmissionReport:
    """Reports of every file of a submission.

    ``recognised`` is true when at least one file bears a recognised signature; the pipeline
    decides which file must (the form, or the document a detached signature signs) with
    :meth:`recognised_for`.
    """

    files: tuple[DocumentReport, ...]
    validation_time: str

    @property
    def recognised(self) -> bool:
        return any(f.recognised for f in self.files)

    def recognised_for(self, name: str) -> bool:
        """Whether the file ``name`` is recognised-signed, itself or by a detached signature."""
        return any(f.recognised and (f.name == name or f.signs == name) for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recognised": self.recognised,
            "validation_time": self.validation_time,
            "files": [f.to_dict() for f in self.files],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubmissionReport:
        return cls(
            files=tuple(DocumentReport.from_dict(f) for f in d["files"]),
            validation_time=d["validation_time"],
        )

    def summary(self, lang: str = "cs") -> str:
        return "\n".join(f.summary(lang) for f in self.files)
