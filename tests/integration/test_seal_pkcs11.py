"""Sealing with a key that never leaves a PKCS#11 token (SoftHSM2 from Debian).

The token is initialised in a temporary directory (its own SOFTHSM2_CONF); the EC P-256 key
is generated inside the token with python-pkcs11, its certificate is issued by the embedded
development root and stored in the token next to it.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from podatelna.config import Settings
from podatelna.sealing import build_wiring
from receipts import render_receipt
from receipts.samples import sample_receipt
from signing.keys import SealKeyError, _load_key, open_pkcs11_signer
from signing.seal import Sealer
from signing.tsa import LocalTimestamper
from tests.services import missing, require_tool
from tests.unit.test_seal_support import embedded_pki, pdfsig, pyhanko_check

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN, PIN, LABEL = "podatelna-test", "1234", "pecet"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory):
    if not Path(MODULE).exists():
        missing(f"SoftHSM2 ({MODULE})")
    util = require_tool("softhsm2-util")
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\n")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", TOKEN, "--so-pin", "5678", "--pin", PIN],
        check=True,
        capture_output=True,
    )
    pki = embedded_pki(d / "seal")  # where build_wiring(data_dir=d) finds it
    import pkcs11
    from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    lib = pkcs11.lib(MODULE)
    tok = lib.get_token(token_label=TOKEN)
    with tok.open(rw=True, user_pin=PIN) as session:
        params = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        pub, _priv = params.generate_keypair(
            store=True, label=LABEL, id=b"\x01", mechanism=Mechanism.EC_KEY_PAIR_GEN
        )
        public_key = serialization.load_der_public_key(encode_ec_public_key(pub))
        root_key = _load_key(pki.directory / "root-ca.key.pem")
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "podatelna test"),
                        x509.NameAttribute(NameOID.COMMON_NAME, "HSM seal - NOT FOR PRODUCTION"),
                    ]
                )
            )
            .issuer_name(pki.root.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier("http://127.0.0.1/x.crl")],
                            None,
                            None,
                            None,
                        )
                    ]
                ),
                critical=False,
            )
            .sign(root_key, hashes.SHA256())
        )
        der = cert.public_bytes(serialization.Encoding.DER)
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: LABEL,
                Attribute.ID: b"\x01",
                Attribute.VALUE: der,
                Attribute.SUBJECT: cert.subject.public_bytes(),
            }
        )
    yield pki, cert, conf
    if old is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = old


def test_a_wrong_pin_is_a_seal_key_error(token) -> None:
    # first in this module: once a session of this process is logged in, PKCS#11 shares
    # that login with every new session and no PIN is checked any more
    with pytest.raises(SealKeyError, match="cannot be opened"):
        open_pkcs11_signer(MODULE, token_label=TOKEN, pin="0000", key_label=LABEL)


@pytest.mark.parametrize("level", ["B-T", "B-LT"])
def test_seal_with_a_softhsm_key(token, level: str, tmp_path: Path) -> None:
    pki, cert, _conf = token
    signer = open_pkcs11_signer(
        MODULE, token_label=TOKEN, pin=PIN, key_label=LABEL, chain=[pki.root]
    )
    sealer = Sealer(
        signer,
        level=level,  # type: ignore[arg-type]
        timestamper=LocalTimestamper(pki.tsa_cert, pki.tsa_key, [pki.root]),
        trust_roots=[pki.root],
        crls=[pki.crl_der()],
    )
    sealed = sealer.seal(render_receipt(sample_receipt()))
    r = pyhanko_check(sealed, [pki.root])
    assert r.intact and r.valid and r.trusted and r.timestamp_ok
    assert r.ltv_ok is (level == "B-LT")
    path = tmp_path / "hsm.pdf"
    path.write_bytes(sealed)
    _rc, sigs = pdfsig(path)
    assert sigs[0].validation == "Signature is Valid."
    assert sigs[0].signer == "HSM seal - NOT FOR PRODUCTION"


def test_wiring_from_settings_uses_the_token(token, tmp_path: Path) -> None:
    pki, _cert, _conf = token
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    settings = Settings(data_dir=str(pki.directory.parent)).replace(
        seal={
            "kind": "pkcs11",
            "pkcs11_module": MODULE,
            "pkcs11_token_label": TOKEN,
            "pkcs11_pin": PIN,
            "pkcs11_key_label": LABEL,
            "chain_pem": [str(root_pem)],
            "level": "B-T",
        }
    )
    wiring = build_wiring(settings)
    sealed = wiring.sealer.seal(render_receipt(sample_receipt()))
    r = pyhanko_check(sealed, [pki.root])
    assert r.intact and r.trusted and r.timestamp_ok
