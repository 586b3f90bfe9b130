"""The CMS SignedData wire form (ISDS ``.zfo`` shape): verified before anything is trusted."""

from __future__ import annotations

import pytest

from intake.databox import (
    ContainerInvalid,
    ContainerSignatureInvalid,
    ContainerUntrusted,
    build_envelope,
    unwrap,
    wire_form_of,
)
from signing import load_trust
from tests.pki import sample_pdf, shared_pki, t

ENVELOPE = build_envelope(
    message_id="zfo-1",
    sender_box="abc1234",
    recipient_box="xyz9876",
    subject="Podání v kontejneru",
    files=[("zadost.pdf", "application/pdf", "main", sample_pdf())],
)


@pytest.fixture(scope="module")
def trust():  # type: ignore[no-untyped-def]
    return load_trust(shared_pki().trust_settings())


def test_plain_envelope_passes_through(trust) -> None:  # type: ignore[no-untyped-def]
    got = unwrap(ENVELOPE, trust=trust, at=t.VALIDATION_TIME)
    assert (got.wire_form, got.envelope, got.report) == ("xml", ENVELOPE, None)


def test_container_sealed_by_a_listed_qualified_seal(trust) -> None:  # type: ignore[no-untyped-def]
    zfo = shared_pki().sign_cades_enveloping("qseal", ENVELOPE)
    assert wire_form_of(zfo) == "cms"
    got = unwrap(zfo, trust=trust, at=t.VALIDATION_TIME)
    assert got.wire_form == "cms" and got.envelope == ENVELOPE
    assert got.report is not None
    (sig,) = got.report["signatures"]
    assert (sig["indication"], sig["qualification"]) == ("TOTAL_PASSED", "QESeal")


def test_container_signed_by_an_untrusted_key(trust) -> None:  # type: ignore[no-untyped-def]
    zfo = shared_pki().sign_cades_enveloping("unlisted", ENVELOPE)
    with pytest.raises(ContainerUntrusted) as exc:
        unwrap(zfo, trust=trust, at=t.VALIDATION_TIME)
    assert exc.value.code == "container_untrusted" and exc.value.status == 422
    assert exc.value.details[0]["subindication"] == "NO_CERTIFICATE_CHAIN_FOUND"


def test_container_whose_signature_does_not_cover_the_content(trust) -> None:  # type: ignore[no-untyped-def]
    zfo = shared_pki().sign_cades_enveloping("qseal", ENVELOPE)
    original = "Podání v kontejneru".encode()
    forged = "Podání v kontejnerX".encode()
    assert zfo.count(original) == 1
    tampered = zfo.replace(original, forged)
    with pytest.raises(ContainerSignatureInvalid) as exc:
        unwrap(tampered, trust=trust, at=t.VALIDATION_TIME)
    assert exc.value.code == "container_signature_invalid"
    assert exc.value.details[0]["indication"] == "TOTAL_FAILED"


def test_detached_signature_or_garbage_is_no_container(trust) -> None:  # type: ignore[no-untyped-def]
    detached = shared_pki().sign_cades_detached("qseal", ENVELOPE)
    with pytest.raises(ContainerInvalid, match="no content"):
        unwrap(detached, trust=trust, at=t.VALIDATION_TIME)
    with pytest.raises(ContainerInvalid):
        unwrap(b"\x30\x03\x02\x01\x00", trust=trust, at=t.VALIDATION_TIME)
