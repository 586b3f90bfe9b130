"""The EU LOTL: a list of the lists, and the national lists it points to.

The test PKI builds a LOTL signed by the configured TL signer, pointing to a CZ list (the
qualified CA, withdrawn CA and TSA) and an SK list (the CA that is not on the CZ list), each
signed by its own operator whose certificate only the LOTL gives.
"""

from __future__ import annotations

import pytest

from signing import TrustListSignatureError, load_trust, verify_file
from tests.pki import shared_pki, t

DATA = b"Priloha podani\n"


@pytest.fixture(scope="module")
def pki():
    return shared_pki()


def _settings(pki, paths, **changes):
    return pki.trust_settings(trusted_lists=tuple(str(p) for p in paths), **changes)


def _qualification(pki, trust, signer, *, timestamp=True):
    p7s = pki.sign_cades_detached(signer, DATA, timestamp=timestamp)
    report = verify_file(
        p7s, name="x.p7s", detached_content=DATA, trust=trust, at=t.VALIDATION_TIME
    )
    (sig,) = report.signatures
    return sig.qualification, sig.indication


def test_lotl_and_the_two_lists_it_points_to_load(pki, tmp_path):
    files = pki.write_lotl_set(tmp_path)
    trust = load_trust(_settings(pki, files.values()))
    by_territory = {tl.territory: tl for tl in trust.lists}
    assert by_territory["EU"].kind == "LOTL" and by_territory["EU"].verified_by == "tl_signers"
    assert by_territory["CZ"].verified_by == "LOTL"
    assert by_territory["CZ"].signer_subject.startswith("Common Name: Test CZ TL Operator")
    assert by_territory["CZ"].services == 3
    assert by_territory["SK"].signer_subject.startswith("Common Name: Test SK TL Operator")
    assert by_territory["SK"].services == 1
    assert trust.refused == () and trust.missing_territories == ()
    # the CZ list makes "qes" qualified, the SK list makes the CA missing from CZ a QTSP
    assert _qualification(pki, trust, "qes") == ("QESig", "TOTAL_PASSED")
    assert _qualification(pki, trust, "unlisted") == ("QESig", "TOTAL_PASSED")


def test_the_national_operators_are_not_configured_signers(pki, tmp_path):
    """Without the LOTL the CZ list is signed by nobody the office trusts: refused."""
    files = pki.write_lotl_set(tmp_path)
    with pytest.raises(TrustListSignatureError):
        load_trust(_settings(pki, [files["cz.xml"]]))


def test_list_signed_by_an_unknown_key_is_refused_and_the_others_load(pki, tmp_path):
    files = pki.write_lotl_set(tmp_path, signers={"SK": pki.rogue_tl_signer})
    trust = load_trust(_settings(pki, files.values()))
    assert [tl.territory for tl in trust.lists] == ["EU", "CZ"]
    (refused,) = trust.refused
    assert refused.territory == "SK" and refused.path == str(files["sk.xml"])
    assert "signature does not verify" in refused.reason
    assert "Test SK TL Operator" in refused.reason  # who should have signed it
    assert trust.to_dict()["refused_lists"][0]["territory"] == "SK"
    assert _qualification(pki, trust, "qes") == ("QESig", "TOTAL_PASSED")
    assert _qualification(pki, trust, "unlisted")[0] == "Indeterminate"


def test_list_with_a_broken_signature_is_refused_and_the_others_load(pki, tmp_path):
    files = pki.write_lotl_set(tmp_path)
    raw = files["cz.xml"].read_bytes()
    bad = raw.replace(b"Test Qualified CA</", b"Test Qualified CB</", 1)
    assert bad != raw
    files["cz.xml"].write_bytes(bad)
    trust = load_trust(_settings(pki, files.values()))
    assert [tl.territory for tl in trust.lists] == ["EU", "SK"]
    assert [r.territory for r in trust.refused] == ["CZ"]
    assert _qualification(pki, trust, "qes")[0] == "Indeterminate"
    # the TSA is on the refused CZ list too: only an untimestamped signature passes
    assert _qualification(pki, trust, "unlisted")[0] == "Indeterminate"
    assert _qualification(pki, trust, "unlisted", timestamp=False) == ("QESig", "TOTAL_PASSED")


def test_unsigned_pointed_to_list_is_refused(pki, tmp_path):
    files = pki.write_lotl_set(tmp_path, signers={"CZ": None})
    trust = load_trust(_settings(pki, files.values()))
    assert [r.territory for r in trust.refused] == ["CZ"]


def test_list_swapped_for_another_territory_is_refused(pki, tmp_path):
    """The SK list served where the LOTL says the CZ list is (found by URL, from the cache)."""
    from signing.tl_cache import CachedList, file_name, store_cache

    files = pki.lotl_set("http://tl.invalid")
    cache = tmp_path / "cache"
    entries = [
        (CachedList("http://tl.invalid/lotl.xml", "LOTL", file_name(d), "", "x"), d)
        for d in [files["lotl.xml"]]
    ] + [
        (CachedList("http://tl.invalid/cz.xml", "TL", file_name(d), "", "x"), d)
        for d in [files["sk.xml"]]
    ]
    store_cache(cache, entries, source="test")
    trust = load_trust(pki.trust_settings(trusted_lists=(), cache_dir=str(cache)))
    assert [tl.kind for tl in trust.lists] == ["LOTL"]
    (refused,) = trust.refused
    assert refused.territory == "CZ"
    assert trust.missing_territories == ("SK",)


def test_lotl_signed_by_an_unconfigured_signer_is_refused_outright(pki, tmp_path):
    files = pki.write_lotl_set(tmp_path, lotl_signer=pki.rogue_tl_signer)
    with pytest.raises(TrustListSignatureError) as info:
        load_trust(_settings(pki, files.values()))
    assert str(files["lotl.xml"]) in str(info.value)


def test_missing_national_list_is_reported(pki, tmp_path):
    files = pki.write_lotl_set(tmp_path)
    trust = load_trust(_settings(pki, [files["lotl.xml"], files["cz.xml"]]))
    assert trust.missing_territories == ("SK",)
    assert trust.to_dict()["missing_territories"] == ["SK"]


def test_national_list_beside_a_lotl_still_needs_a_configured_signer(pki, tmp_path):
    """A list the LOTL does not point to (no territory) is checked against the TL signers."""
    files = pki.write_lotl_set(tmp_path)
    trust = load_trust(_settings(pki, [files["lotl.xml"], pki.tl_path]))
    assert [(tl.kind, tl.verified_by) for tl in trust.lists] == [
        ("LOTL", "tl_signers"),
        ("TL", "tl_signers"),
    ]
    rogue = pki.write_trusted_list("tl-rogue-beside-lotl.xml", signer=pki.rogue_tl_signer)
    with pytest.raises(TrustListSignatureError):
        load_trust(_settings(pki, [files["lotl.xml"], rogue]))
