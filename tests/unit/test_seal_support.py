"""Helpers shared by the sealing and receipt tests (no tests here).

Two independent verifiers: pyHanko's validation API (with our local trust root, no fetching)
and poppler's ``pdfsig`` (NSS). PDF/A is checked by hand with pikepdf (identification in XMP,
output intent, embedded fonts, associated files) and, where its optional dependencies are
installed, with pikepdf's own PDF/A-3b validator; veraPDF is not available on these machines.
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from signing.keys import EmbeddedPki, ensure_embedded_pki, load_pkcs12, to_asn1
from signing.seal import Sealer
from signing.tsa import LocalTimestamper
from tests.services import missing, require_tool

PKI_CREATED = datetime.now(UTC) - timedelta(days=1)


def embedded_pki(directory: Path, key_type: str = "ec") -> EmbeddedPki:
    return ensure_embedded_pki(directory, now=PKI_CREATED, key_type=key_type)


def make_sealer(pki: EmbeddedPki, level: str = "B-T", timestamper=None) -> Sealer:
    tsa = timestamper or LocalTimestamper(pki.tsa_cert, pki.tsa_key, [pki.root])
    return Sealer(
        load_pkcs12(pki.seal_p12),
        level=level,  # type: ignore[arg-type]
        timestamper=tsa,
        trust_roots=[pki.root],
        crls=[pki.crl_der()],
    )


# -- pyHanko ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PyHankoResult:
    intact: bool
    valid: bool
    trusted: bool
    timestamp_ok: bool | None
    coverage: str
    modification: str
    dss_crls: int
    #: the document timestamp (B-LTA) validates with the DSS data; None without one
    doc_timestamp_ok: bool | None
    #: the seal validates in hard-fail mode from the trust root and the DSS alone
    ltv_ok: bool


def pyhanko_check(pdf: bytes, roots: list) -> PyHankoResult:
    """Validate the (first) seal with pyHanko against ``roots``, fetching nothing."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    sigs = reader.embedded_regular_signatures
    assert len(sigs) == 1, f"expected one seal, found {len(sigs)}"
    sig = sigs[0]
    asn1_roots = [to_asn1(r) for r in roots]
    vc = ValidationContext(trust_roots=asn1_roots, allow_fetching=False)
    status = validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)
    ts = status.timestamp_validity
    dss = reader.root.get("/DSS")
    dss = dss.get_object() if dss is not None else None
    crls = len(dss["/CRLs"]) if dss is not None and "/CRLs" in dss else 0
    # Long-term: validate again in hard-fail revocation mode with nothing but the trust root
    # and what the document's DSS holds: passes only if the revocation data is embedded.
    dss_crls = [bytes(c.get_object().data) for c in dss["/CRLs"]] if crls else []
    dss_certs = (
        [bytes(c.get_object().data) for c in dss["/Certs"]] if dss and "/Certs" in dss else []
    )
    lt_vc = ValidationContext(
        trust_roots=asn1_roots,
        crls=dss_crls,
        other_certs=[x509.Certificate.load(c) for c in dss_certs],
        allow_fetching=False,
        revocation_mode="hard-fail",
    )
    lt = validate_pdf_signature(sig, signer_validation_context=lt_vc, ts_validation_context=lt_vc)
    ltv_ok = bool(lt.bottom_line)
    doc_ts_ok = None
    if reader.embedded_timestamp_signatures:
        ts_status = validate_pdf_timestamp(
            reader.embedded_timestamp_signatures[0], validation_context=lt_vc
        )
        doc_ts_ok = bool(ts_status.valid and ts_status.intact and ts_status.trusted)
    return PyHankoResult(
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        timestamp_ok=None if ts is None else bool(ts.valid and ts.intact and ts.trusted),
        coverage=status.coverage.name if status.coverage else "",
        modification=status.modification_level.name if status.modification_level else "",
        dss_crls=crls,
        doc_timestamp_ok=doc_ts_ok,
        ltv_ok=ltv_ok,
    )


# -- pdfsig -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfsigSignature:
    field: str
    signer: str
    validation: str
    total_document: bool
    kind: str


def pdfsig(path: Path) -> tuple[int, list[PdfsigSignature]]:
    """Run poppler's pdfsig and parse each signature's block."""
    exe = require_tool("pdfsig")
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    out: list[PdfsigSignature] = []
    for block in re.split(r"^Signature #\d+:\s*$", proc.stdout, flags=re.M)[1:]:

        def field(name: str, block: str = block) -> str:
            m = re.search(rf"- {re.escape(name)}: (.*)$", block, flags=re.M)
            return m.group(1).strip() if m else ""

        out.append(
            PdfsigSignature(
                field=field("Signature Field Name"),
                signer=field("Signer Certificate Common Name"),
                validation=field("Signature Validation"),
                total_document="- Total document signed" in block,
                kind=field("Signature Type"),
            )
        )
    return proc.returncode, out


def qpdf_check(path: Path) -> subprocess.CompletedProcess[str]:
    exe = require_tool("qpdf")
    return subprocess.run([exe, "--check", str(path)], capture_output=True, text=True, timeout=60)


# -- PDF/A ------------------------------------------------------------------------------------


def pdfa_problems(pdf: bytes) -> list[str]:
    """Hand checks of PDF/A-3b essentials (veraPDF is not available here)."""
    problems: list[str] = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        meta = doc.open_metadata()
        if meta.get("pdfaid:part") != "3" or meta.get("pdfaid:conformance") != "B":
            problems.append(
                f"XMP identification is {meta.get('pdfaid:part')}/"
                f"{meta.get('pdfaid:conformance')}, not 3/B"
            )
        intents = doc.Root.get("/OutputIntents")
        if not intents or intents[0].get("/S") != "/GTS_PDFA1":
            problems.append("no GTS_PDFA1 output intent")
        elif int(intents[0].DestOutputProfile.get("/N", 0)) != 3:
            problems.append("output intent profile is not RGB")
        for n, page in enumerate(doc.pages, start=1):
            fonts = page.Resources.get("/Font", {})
            for name, font in fonts.items():
                fd = font.get("/FontDescriptor")
                if font.get("/Subtype") == "/Type0":
                    fd = font.DescendantFonts[0].get("/FontDescriptor")
                if fd is None or not any(
                    k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")
                ):
                    problems.append(f"page {n}: font {name} is not embedded")
        af = doc.Root.get("/AF")
        if not af:
            problems.append("no associated files (/AF) on the catalog")
        else:
            for spec in af:
                if spec.get("/AFRelationship") not in (
                    "/Data",
                    "/Source",
                    "/Alternative",
                    "/Supplement",
                ):
                    problems.append(f"{spec.get('/F')}: no valid /AFRelationship")
                stream = spec.EF.F
                if not str(stream.get("/Subtype", "")):
                    problems.append(f"{spec.get('/F')}: embedded file without MIME /Subtype")
        if doc.is_encrypted:
            problems.append("encrypted")
    return problems


#: what pikepdf's allow-list validator cannot judge in a sealed document: it does not support
#: interactive forms (the signature field lives in /AcroForm), hence not the embedded files
#: below that catalog either, nor the DSS. These come back as "unsupported", never "violation".
SEALED_UNSUPPORTED = (
    "pikepdf:schema-Catalog at obj 1 0 (Catalog) /AcroForm:",
    "pikepdf:schema-Catalog at obj 1 0 (Catalog): unrecognized key(s) /DSS",
    "pikepdf:embedded-file at ",
)


def pdfa_validator_findings(pdf: bytes, *, sealed: bool = False) -> list[str]:
    """Findings of pikepdf's PDF/A-3b validator (an allow-list built from veraPDF's rules).

    For a sealed document, the "unsupported" findings listed in :data:`SEALED_UNSUPPORTED` are
    dropped; every violation and any other unsupported construct is still returned.
    """
    try:
        import pikepdf.pdfa as pdfa  # needs jsonschema and referencing (pikepdf[pdfa])
    except ImportError as exc:
        missing(f"pikepdf's PDF/A validator ({exc})")
        raise
    report = pdfa.validate_written(io.BytesIO(pdf), "3b")
    if report.passed:
        return []
    findings = [str(f) for f in report.findings]
    if sealed:
        findings = [
            f
            for f in findings
            if not (f.startswith("[unsupported] ") and f[14:].startswith(SEALED_UNSUPPORTED))
        ]
    return findings


def attachments(pdf: bytes) -> dict[str, tuple[str, bytes]]:
    """Associated files by name: (relationship, bytes)."""
    out: dict[str, tuple[str, bytes]] = {}
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for spec in doc.Root.get("/AF", []):
            out[str(spec.F)] = (str(spec.AFRelationship), spec.EF.F.read_bytes())
    return out


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    exe = require_tool("pdftotext")
    p = tmp_path / "text.pdf"
    p.write_bytes(pdf)
    out = subprocess.run([exe, str(p), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())  # lines joined: wrapped sentences read as one
