"""An ETSI TS 119 612 trusted list for the test PKI, signed (XAdES enveloped) by the TL signer.

Built with pyHanko's generated TS 119 612 bindings and signed with signxml using inclusive C14N
1.0, as TS 119 612 requires.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree
from pyhanko.generated.etsi import ts_119612, ts_119612_extra
from pyhanko.sign.validation.qualified.eutl_parse import (
    ETSI_TSL_MIME_TYPE,
    LOTL_RULE,
    STATUS_GRANTED,
)
from pyhanko.sign.validation.qualified.tsp import CA_QC_URI
from signxml import SignatureMethod
from signxml.algorithms import CanonicalizationMethod
from signxml.xades import XAdESSigner
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDateTime

from .certs import Issued

STATUS_WITHDRAWN = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
TSL_TYPE_GENERIC = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric"
TSL_TYPE_LOTL = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists"
GENERIC_RULE = "http://uri.etsi.org/TrstSvc/TrustedList/schemerules/EUcommon"


def _names(name: str) -> ts_119612.InternationalNamesType:
    return ts_119612.InternationalNamesType(
        (ts_119612.MultiLangNormStringType(value=name, lang="en"),)
    )


def _identity(cert: Issued) -> ts_119612.ServiceDigitalIdentity:
    return ts_119612.ServiceDigitalIdentity(
        (ts_119612.DigitalIdentityType(x509_certificate=cert.cert_der),)
    )


def service(
    name: str,
    cert: Issued,
    *,
    service_type: str = CA_QC_URI,
    granted_from: datetime,
    withdrawn_at: datetime | None = None,
) -> ts_119612.TSPService:
    if withdrawn_at is None:
        return ts_119612.TSPService(
            ts_119612.ServiceInformation(
                service_type_identifier=ts_119612.ServiceTypeIdentifier(service_type),
                service_name=_names(name),
                service_digital_identity=_identity(cert),
                service_status=ts_119612.ServiceStatus(STATUS_GRANTED),
                status_starting_time=XmlDateTime.from_datetime(granted_from),
            )
        )
    history = ts_119612.ServiceHistory(
        service_history_instance=(
            ts_119612.ServiceHistoryInstance(
                service_type_identifier=ts_119612.ServiceTypeIdentifier(service_type),
                service_name=_names(name),
                service_digital_identity=_identity(cert),
                service_status=ts_119612.ServiceStatus(STATUS_GRANTED),
                status_starting_time=XmlDateTime.from_datetime(granted_from),
            ),
        )
    )
    return ts_119612.TSPService(
        ts_119612.ServiceInformation(
            service_type_identifier=ts_119612.ServiceTypeIdentifier(service_type),
            service_name=_names(name),
            service_digital_identity=_identity(cert),
            service_status=ts_119612.ServiceStatus(STATUS_WITHDRAWN),
            status_starting_time=XmlDateTime.from_datetime(withdrawn_at),
        ),
        service_history=history,
    )


def _sign(data: bytes, signer: Issued | None) -> bytes:
    if signer is None:
        return data
    tree = etree.fromstring(data)
    signed = XAdESSigner(
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    ).sign(tree, key=signer.key, cert=[signer.cert_pem.decode()], always_add_key_value=False)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def _render(root: ts_119612.TrustServiceStatusList) -> bytes:
    return XmlSerializer(config=SerializerConfig(indent="  ")).render(root).encode("utf-8")


def build_trusted_list(
    services: list[ts_119612.TSPService],
    issued: datetime,
    signer: Issued | None,
    *,
    territory: str | None = None,
) -> bytes:
    """The trusted list as XML bytes, signed by ``signer`` (unsigned when ``None``)."""
    root = ts_119612.TrustServiceStatusList(
        id="tsl",
        scheme_information=ts_119612.SchemeInformation(
            tsltype=ts_119612.TSLType(TSL_TYPE_GENERIC) if territory else None,
            scheme_territory=ts_119612.SchemeTerritory(territory) if territory else None,
            list_issue_date_time=XmlDateTime.from_datetime(issued),
        ),
        trust_service_provider_list=ts_119612.TrustServiceProviderList(
            trust_service_provider=tuple(
                ts_119612.TrustServiceProvider(tspservices=ts_119612.TSPServices((svc,)))
                for svc in services
            )
        ),
    )
    return _sign(_render(root), signer)


def _pointer(
    location: str, territory: str, certs: list[Issued], rule: str
) -> ts_119612.OtherTSLPointer:
    return ts_119612.OtherTSLPointer(
        service_digital_identities=ts_119612.ServiceDigitalIdentities(
            (
                ts_119612.ServiceDigitalIdentity(
                    tuple(ts_119612.DigitalIdentityType(x509_certificate=c.cert_der) for c in certs)
                ),
            )
        ),
        tsllocation=location,
        additional_information=ts_119612.AdditionalInformation(
            other_information=(
                ts_119612.AnyType(content=(ts_119612.SchemeTerritory(territory),)),
                ts_119612.AnyType(content=(ts_119612_extra.MimeType(ETSI_TSL_MIME_TYPE),)),
                ts_119612.AnyType(
                    content=(
                        ts_119612.SchemeTypeCommunityRules(
                            (ts_119612.NonEmptyMultiLangURIType(value=rule, lang="en"),)
                        ),
                    )
                ),
            )
        ),
    )


def build_lotl(
    pointers: list[tuple[str, str, list[Issued]]],
    issued: datetime,
    signer: Issued | None,
    *,
    location: str = "http://lotl.invalid/eu-lotl.xml",
) -> bytes:
    """A list of the lists (LOTL) pointing to ``(territory, location, TL signers)`` entries.

    As the EU LOTL does, it also points to itself (with its own signer), which a reader must skip.
    """
    own = [_pointer(location, "EU", [signer] if signer else [], LOTL_RULE)]
    others = [_pointer(url, terr, certs, GENERIC_RULE) for terr, url, certs in pointers]
    root = ts_119612.TrustServiceStatusList(
        id="lotl",
        scheme_information=ts_119612.SchemeInformation(
            tsltype=ts_119612.TSLType(TSL_TYPE_LOTL),
            scheme_information_uri=ts_119612.SchemeInformationURI(
                (ts_119612.NonEmptyMultiLangURIType(value="http://lotl.invalid/info", lang="en"),)
            ),
            scheme_territory=ts_119612.SchemeTerritory("EU"),
            pointers_to_other_tsl=ts_119612.PointersToOtherTSL(tuple(own + others)),
            list_issue_date_time=XmlDateTime.from_datetime(issued),
        ),
    )
    return _sign(_render(root), signer)
