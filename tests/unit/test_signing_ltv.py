"""CAdES-LT/LTA: levels, embedded revocation data used for validation, archive timestamps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from signing import load_trust, verify_file
from tests.pki import shared_pki, t
from tests.pki.ltv import add_cades_lt, add_cades_lta

DATA = b"Priloha podani: smlouva\n"


@pytest.fixture(scope="module")
def pki():
    return shared_pki()


@pytest.fixture(scope="module")
def trust(pki):
    return load_trust(pki.trust_settings())


@pytest.fixture(scope="module")
def trust_without_crls(pki):
    """Only the trusted list: revocation data must come from the signature itself."""
    return load_trust(pki.trust_settings(revocation=()))


def _qca_crl(pki) -> bytes:
    return next(p for p in pki.crl_paths if p.name == "qca.crl").read_bytes()


def _other_crl(pki) -> bytes:
    return next(p for p in pki.crl_paths if p.name == "other_ca.crl").read_bytes()


def _sig(data: bytes, trust, *, detached: bool = True):
    name = "x.p7s" if detached else "x.p7m"
    report = verify_file(
        data,
        name=name,
        detached_content=DATA if detached else None,
        trust=trust,
        at=t.VALIDATION_TIME,
    )
    (sig,) = report.signatures
    return sig


def _archive_stamper(pki):
    return pki.timestamper(t.SIGN_TIME + timedelta(days=30))


def test_b_t_without_embedded_data_needs_local_revocation(pki, trust, trust_without_crls):
    p7s = pki.sign_cades_detached("qes", DATA)
    assert _sig(p7s, trust).level == "B-T"
    sig = _sig(p7s, trust_without_crls)
    assert sig.indication == "INDETERMINATE" and sig.level == "B-T"


def test_b_lt_signature_verifies_with_its_own_revocation_data(pki, trust_without_crls):
    lt = add_cades_lt(pki.sign_cades_detached("qes", DATA), [_qca_crl(pki)])
    sig = _sig(lt, trust_without_crls)
    assert (sig.level, sig.indication, sig.qualification) == ("B-LT", "TOTAL_PASSED", "QESig")


def test_b_lt_enveloping_and_revocation_values_attribute(pki, trust_without_crls):
    p7m = pki.sign_cades_enveloping("qseal", DATA)
    lt = add_cades_lt(p7m, [_qca_crl(pki)], as_attribute=True)
    sig = _sig(lt, trust_without_crls, detached=False)
    assert (sig.level, sig.indication, sig.qualification) == ("B-LT", "TOTAL_PASSED", "QESeal")


def test_embedded_crl_proves_a_revocation(pki, trust_without_crls):
    lt = add_cades_lt(pki.sign_cades_detached("revoked_before", DATA), [_qca_crl(pki)])
    sig = _sig(lt, trust_without_crls)
    assert sig.indication != "TOTAL_PASSED"
    assert sig.subindication in {"REVOKED", "REVOKED_NO_POE"}


def test_crl_of_another_ca_does_not_make_b_lt(pki, trust):
    lt = add_cades_lt(pki.sign_cades_detached("qes", DATA), [_other_crl(pki)])
    sig = _sig(lt, trust)
    assert sig.level == "B-T"
    assert any("not for" in r and "Jana Novakova" in r for r in sig.reasons)


def test_revocation_data_without_timestamp_is_b_b(pki, trust):
    lt = add_cades_lt(pki.sign_cades_detached("qes", DATA, timestamp=False), [_qca_crl(pki)])
    sig = _sig(lt, trust)
    assert sig.level == "B-B"


def test_b_lta_with_a_valid_archive_timestamp(pki, trust_without_crls):
    lt = add_cades_lt(pki.sign_cades_detached("qes", DATA), [_qca_crl(pki)])
    lta = add_cades_lta(lt, DATA, _archive_stamper(pki))
    sig = _sig(lta, trust_without_crls)
    assert (sig.level, sig.indication, sig.qualification) == ("B-LTA", "TOTAL_PASSED", "QESig")
    assert any("archive timestamp of 2025-03-31" in r for r in sig.reasons)


def test_b_lta_enveloping(pki, trust_without_crls):
    lt = add_cades_lt(pki.sign_cades_enveloping("qes", DATA), [_qca_crl(pki)])
    lta = add_cades_lta(lt, DATA, _archive_stamper(pki))
    assert _sig(lta, trust_without_crls, detached=False).level == "B-LTA"


def test_archive_timestamp_over_other_content_is_not_lta(pki, trust_without_crls):
    lt = add_cades_lt(pki.sign_cades_detached("qes", DATA), [_qca_crl(pki)])
    lta = add_cades_lta(lt, DATA, _archive_stamper(pki), imprint_content=b"something else")
    sig = _sig(lta, trust_without_crls)
    assert sig.level == "B-LT" and sig.indication == "TOTAL_PASSED"
    assert any("archive timestamp" in r and "does not verify" in r for r in sig.reasons)


def test_archive_index_naming_missing_data_is_not_lta(pki, trust_without_crls):
    lt = add_cades_lt(pki.sign_cades_detached("qes", DATA), [_qca_crl(pki)])
    lta = add_cades_lta(lt, DATA, _archive_stamper(pki), extra_crl_in_index=_other_crl(pki))
    sig = _sig(lta, trust_without_crls)
    assert sig.level == "B-LT"
    assert any("names a revocation entry the signature does not contain" in r for r in sig.reasons)


def test_archive_timestamp_from_untrusted_tsa_is_not_lta(pki, trust_without_crls):
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from tests.pki.certs import TIMESTAMPING, make_leaf, plain, qc_statements_der

    rogue = make_leaf(
        "rogue_tsa",
        pki.other_ca,
        plain("Rogue TSA"),
        t.PKI_START,
        t.PKI_END,
        non_repudiation=False,
        qc=qc_statements_der(compliance=True, sscd=False, qc_type=None),
        eku=[TIMESTAMPING],
        rsa_key=True,
    )
    stamper = DummyTimeStamper(
        tsa_cert=rogue.asn1_cert,
        tsa_key=rogue.asn1_key,
        certs_to_embed=SimpleCertificateStore.from_certs([rogue.asn1_cert]),
        fixed_dt=t.SIGN_TIME + timedelta(days=30),
    )
    lt = add_cades_lt(pki.sign_cades_detached("qes", DATA), [_qca_crl(pki)])
    sig = _sig(add_cades_lta(lt, DATA, stamper), trust_without_crls)
    assert sig.level == "B-LT"
    assert any("archive timestamp" in r for r in sig.reasons)


def test_tampered_lta_signature_still_fails(pki, trust_without_crls):
    lt = add_cades_lt(pki.sign_cades_enveloping("qes", DATA), [_qca_crl(pki)])
    lta = add_cades_lta(lt, DATA, _archive_stamper(pki))
    bad = lta.replace(DATA, DATA.upper())
    assert bad != lta
    sig = _sig(bad, trust_without_crls, detached=False)
    assert (sig.indication, sig.subindication) == ("TOTAL_FAILED", "HASH_FAILURE")


# -- XAdES ------------------------------------------------------------------------------------


def _xades_bt(pki, signer: str) -> bytes:
    from tests.pki import sample_xml
    from tests.unit.test_signing_xades import _with_signature_timestamp

    return _with_signature_timestamp(pki, pki.sign_xades(signer, sample_xml()))


def _xsig(data: bytes, trust):
    (sig,) = verify_file(data, name="form.xml", trust=trust, at=t.VALIDATION_TIME).signatures
    return sig


def test_xades_b_lt_verifies_with_its_own_revocation_data(pki, trust_without_crls):
    from tests.pki.ltv import add_xades_lt

    bt = _xades_bt(pki, "qes")
    assert _xsig(bt, trust_without_crls).indication == "INDETERMINATE"
    lt = add_xades_lt(bt, [_qca_crl(pki)], [pki.qca.cert_der])
    sig = _xsig(lt, trust_without_crls)
    assert (sig.level, sig.indication, sig.qualification) == ("B-LT", "TOTAL_PASSED", "QESig")


def test_xades_embedded_crl_proves_a_revocation(pki, trust_without_crls):
    from tests.pki.ltv import add_xades_lt

    lt = add_xades_lt(_xades_bt(pki, "revoked_before"), [_qca_crl(pki)])
    sig = _xsig(lt, trust_without_crls)
    assert sig.indication != "TOTAL_PASSED" and sig.level == "B-LT"


def test_xades_crl_of_another_ca_is_b_t(pki, trust):
    from tests.pki.ltv import add_xades_lt

    sig = _xsig(add_xades_lt(_xades_bt(pki, "qes"), [_other_crl(pki)]), trust)
    assert sig.level == "B-T" and sig.indication == "TOTAL_PASSED"
    assert any("not for" in r for r in sig.reasons)


def test_xades_b_lta(pki, trust_without_crls):
    from tests.pki.ltv import add_xades_lt, add_xades_lta

    lt = add_xades_lt(_xades_bt(pki, "qes"), [_qca_crl(pki)])
    lta = add_xades_lta(lt, _archive_stamper(pki))
    sig = _xsig(lta, trust_without_crls)
    assert (sig.level, sig.indication, sig.qualification) == ("B-LTA", "TOTAL_PASSED", "QESig")
    assert any("archive timestamp of 2025-03-31" in r for r in sig.reasons)


def test_xades_archive_timestamp_not_covering_the_validation_data(pki, trust_without_crls):
    from tests.pki.ltv import add_xades_lt, add_xades_lta

    lt = add_xades_lt(_xades_bt(pki, "qes"), [_qca_crl(pki)])
    lta = add_xades_lta(lt, _archive_stamper(pki), skip_unsigned=True)
    sig = _xsig(lta, trust_without_crls)
    assert sig.level == "B-LT" and sig.indication == "TOTAL_PASSED"
    assert any("archive timestamp does not verify" in r for r in sig.reasons)


def test_xades_validation_data_changed_after_the_archive_timestamp(pki, trust_without_crls):
    from tests.pki.ltv import add_xades_lt, add_xades_lta

    lt = add_xades_lt(_xades_bt(pki, "qes"), [_qca_crl(pki)])
    lta = add_xades_lta(lt, _archive_stamper(pki))
    # add a CRL in front of the archived one: the archive timestamp no longer matches
    import base64

    from lxml import etree

    root = etree.fromstring(lta)
    crl_el = root.find(".//{http://uri.etsi.org/01903/v1.3.2#}EncapsulatedCRLValue")
    crl_el.text = base64.b64encode(_other_crl(pki)).decode()
    crl_el.addnext(etree.Element("{http://uri.etsi.org/01903/v1.3.2#}EncapsulatedCRLValue"))
    crl_el.getnext().text = base64.b64encode(_qca_crl(pki)).decode()
    swapped = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    sig = _xsig(swapped, trust_without_crls)
    assert sig.level == "B-LT"
    assert any("archive timestamp does not verify" in r for r in sig.reasons)
