"""An ETSI TS 119 612 trusted list for the test PKI, signed (XAdES enveloped) by the TL signer.

Built with pyHanko's generated TS 119 612 bindings and signed with signxml using inclusive C14N
1.0, as TS 119 612 requires.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree
from pyhanko.generated.etsi import ts_119612
from pyhanko.sign.validation.qualified.eutl_parse import STATUS_GRANTED
from pyhanko.sign.validation.qualified.tsp import CA_QC_URI
from signxml import SignatureMethod
from signxml.algorithms import CanonicalizationMethod
from signxml.xades import XAdESSigner
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDateTime

from .certs import Issued

STATUS_WITHDRAWN = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"


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


def build_trusted_list(
    services: list[ts_119612.TSPService], issued: datetime, signer: Issued | None
) -> bytes:
    """The trusted list as XML bytes, signed by ``signer`` (unsigned when ``None``)."""
    root = ts_119612.TrustServiceStatusList(
        id="tsl",
        scheme_information=ts_119612.SchemeInformation(
            list_issue_date_time=XmlDateTime.from_datetime(issued),
        ),
        trust_service_provider_list=ts_119612.TrustServiceProviderList(
            trust_service_provider=tuple(
                ts_119612.TrustServiceProvider(tspservices=ts_119612.TSPServices((svc,)))
                for svc in services
            )
        ),
    )
    data = XmlSerializer(config=SerializerConfig(indent="  ")).render(root).encode("utf-8")
    if signer is None:
        return data
    tree = etree.fromstring(data)
    signed = XAdESSigner(
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    ).sign(tree, key=signer.key, cert=[signer.cert_pem.decode()], always_add_key_value=False)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
