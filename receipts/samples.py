"""Sample documents (fixed data, Czech text) for tests, benchmarks and the demo."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import schemas

from .model import (
    Authority,
    CopyData,
    FileEntry,
    FormInfo,
    JournalEntry,
    JournalExport,
    PersonalExport,
    ReceiptData,
    RejectionData,
    RejectionReason,
    Sender,
)

AUTHORITY = Authority("Magistrát města Ostravy", "Prokešovo náměstí 8, 702 00 Ostrava", "MMO")
RECEIVED_AT = datetime(2026, 3, 2, 9, 15, 30, tzinfo=UTC)
SENDER = Sender("Ing. Jiří Nováček", email="jiri.novacek@example.cz")
FORM = FormInfo("obecne-podani", "Obecné podání", "1.0")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def form_xml() -> bytes:
    return schemas.sample_path("obecne-podani.xml").read_bytes()


def sample_receipt(seq: int = 42, *, confirmation_needed: bool = True) -> ReceiptData:
    form = form_xml()
    photo = b"\xff\xd8\xff\xe0 fotografie chodniku" * 50
    reference = f"MMO/{seq:05d}/2026"
    return ReceiptData(
        receipt_id=f"P-2026-{seq:06d}",
        authority=AUTHORITY,
        reference=reference,
        received_at=RECEIVED_AT,
        channel="portal",
        sender=SENDER,
        form=FORM,
        subject="Žádost o opravu poškozeného chodníku v ulici Českobratrská",
        files=(
            FileEntry("obecne-podani.xml", len(form), "application/xml", _sha(form)),
            FileEntry("fotografie-chodníku.jpg", len(photo), "image/jpeg", _sha(photo)),
        ),
        verdicts=(
            "obecne-podani.xml: bez elektronického podpisu.",
            "fotografie-chodníku.jpg: bez elektronického podpisu.",
        ),
        confirmation_needed=confirmation_needed,
        confirmation_deadline=date(2026, 3, 9) if confirmation_needed else None,
        verification_code=f"7KQ2-{seq:04d}",
        verification_url=f"http://127.0.0.1:8000/overeni/7KQ2-{seq:04d}",
    )


def sample_rejection() -> RejectionData:
    return RejectionData(
        submission_id="01HZX4S5J7K8M9N0P1Q2R3S4T5",
        authority=AUTHORITY,
        received_at=RECEIVED_AT,
        sender=SENDER,
        form=FORM,
        reasons=(
            RejectionReason(
                "Element 'vec': chybí povinný údaj (předmět podání).", 3, 5, "/podani/vec"
            ),
            RejectionReason(
                "Příloha „smlouva.exe“ má nepovolený formát (application/x-msdownload)."
            ),
        ),
    )


def sample_copy() -> CopyData:
    return CopyData(
        reference="MMO/00042/2026",
        authority=AUTHORITY,
        received_at=RECEIVED_AT,
        form_name="Obecné podání",
        form_xml=form_xml(),
    )


def sample_personal_export() -> PersonalExport:
    return PersonalExport(
        sender=SENDER,
        generated_at=datetime(2026, 4, 1, 8, 0, 0, tzinfo=UTC),
        submissions=[
            {
                "id": "01HZX4S5J7K8M9N0P1Q2R3S4T5",
                "channel": "portal",
                "received_at": RECEIVED_AT,
                "state": "registered",
                "files": [{"name": "obecne-podani.xml", "size": 1234}],
            }
        ],
        filings=[
            {
                "reference": "MMO/00042/2026",
                "form_type": "obecne-podani",
                "subject": "Žádost o opravu chodníku",
                "deadline": date(2026, 3, 9),
                "status": "registered",
            }
        ],
        verdicts=[{"file": "obecne-podani.xml", "qualification": None, "recognised": False}],
        audit_entries=[
            {"at": RECEIVED_AT, "action": "submission.received", "actor": "jiri.novacek@example.cz"}
        ],
        authority=AUTHORITY,
    )


def sample_journal(n: int = 3) -> JournalExport:
    entries = tuple(
        JournalEntry(
            reference=f"MMO/{i:05d}/2026",
            received_at=RECEIVED_AT.replace(minute=i % 60),
            channel="portal" if i % 2 else "databox",
            sender=SENDER if i % 2 else Sender("Statutární město Brno", box_id="a7kbrrn"),
            form=FORM,
            subject=f"Podání č. {i}: žádost o vyjádření",
            files=(FileEntry("obecne-podani.xml", 1234, "application/xml", "ab" * 32),),
            verdicts=("bez elektronického podpisu",) if i % 2 else ("z datové schránky",),
            confirmation_state="pending" if i % 2 else "not_required",
            confirmation_deadline=date(2026, 3, 9) if i % 2 else None,
            status="registered",
        )
        for i in range(1, n + 1)
    )
    return JournalExport(
        authority=AUTHORITY,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 31),
        generated_at=datetime(2026, 4, 1, 8, 0, 0, tzinfo=UTC),
        entries=entries,
    )
