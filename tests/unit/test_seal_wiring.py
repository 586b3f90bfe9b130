"""podatelna.sealing: the embedded default wiring from Settings."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from podatelna.clock import FrozenClock
from podatelna.config import Settings
from podatelna.sealing import build_wiring
from receipts import render_receipt
from receipts.samples import sample_receipt
from signing.keys import SealKeyError
from tests.unit.test_seal_support import pyhanko_check


def test_embedded_default_is_created_once_and_seals_b_lt(tmp_path, caplog) -> None:
    settings = Settings(data_dir=str(tmp_path))
    clock = FrozenClock(datetime.now(UTC))
    with caplog.at_level(logging.WARNING):
        wiring = build_wiring(settings, clock=clock)
    assert "NOT FOR PRODUCTION" in caplog.text
    assert (tmp_path / "seal" / "seal.p12").is_file()
    assert wiring.sealer.level == "B-LT"
    sealed = wiring.sealer.seal(render_receipt(sample_receipt()))
    assert wiring.embedded is not None
    r = pyhanko_check(sealed, [wiring.embedded.root])
    assert r.intact and r.trusted and r.timestamp_ok and r.ltv_ok
    again = build_wiring(settings, clock=clock)
    assert again.embedded is not None and again.embedded.root == wiring.embedded.root


def test_local_tsa_uses_the_injected_clock(tmp_path) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    wiring = build_wiring(Settings(data_dir=str(tmp_path)), clock=FrozenClock(at))
    from asn1crypto import cms, tsp

    token = cms.ContentInfo.load(wiring.timestamper.timestamp_token(b"\x00" * 32))
    info = tsp.TSTInfo.load(token["content"]["encap_content_info"]["content"].contents)
    assert info["gen_time"].native == at


def test_pkcs11_without_module_is_refused(tmp_path) -> None:
    settings = Settings(data_dir=str(tmp_path)).replace(seal={"kind": "pkcs11"})
    with pytest.raises(SealKeyError, match="pkcs11_module"):
        build_wiring(settings)
