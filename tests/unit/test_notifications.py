"""Notices: Czech texts, stable ids, the outbox backend and the choice of backend."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from podatelna.config import NotificationSettings
from podatelna.notifications import (
    KINDS,
    DeliveryError,
    InvalidAddressError,
    Notice,
    NoticeContextError,
    NotificationError,
    Notifier,
    OutboxNotifier,
    SmtpNotifier,
    UnknownNoticeKindError,
    build_notifier,
    czech_date,
    days_left_phrase,
    render_notice,
)

TO = "jana.novakova@example.cz"
OFFICE = {
    "office_name": "Magistrát města Ostravy",
    "office_address": "Prokešovo náměstí 8, 702 00 Ostrava",
}


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


CLOCK = FrozenClock(datetime(2026, 11, 24, 13, 6, tzinfo=UTC))


def accepted(**extra: object) -> Notice:
    context = {
        **OFFICE,
        "reference": "MMO/00042/2026",
        "submission_id": "sub-1",
        "received_at": "2026-11-24T13:05:00+00:00",
        "confirmation_needed": True,
        "deadline": date(2026, 11, 30),
        **extra,
    }
    return render_notice("accepted", to=TO, context=context, idempotency_key="accepted:sub-1")


# -- formatting ---------------------------------------------------------------------------


def test_czech_dates() -> None:
    assert czech_date(date(2026, 11, 30)) == "30. 11. 2026"
    assert czech_date(date(2027, 1, 4)) == "4. 1. 2027"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "dnes je poslední den lhůty"),
        (1, "zbývá 1 den"),
        (2, "zbývají 2 dny"),
        (4, "zbývají 4 dny"),
        (5, "zbývá 5 dní"),
        (8, "zbývá 8 dní"),
    ],
)
def test_days_left_in_czech(n: int, text: str) -> None:
    assert days_left_phrase(n) == text


# -- the texts ----------------------------------------------------------------------------


def test_accepted_with_confirmation() -> None:
    n = accepted()
    assert n.kind == "accepted"
    assert n.reference == "MMO/00042/2026"
    assert n.submission_id == "sub-1"
    assert n.subject == "Podání MMO/00042/2026 bylo přijato – potvrďte je do 30. 11. 2026"
    assert "Přijato: 24. 11. 2026 v 14:05" in n.body  # 13:05 UTC is 14:05 in Prague
    assert "Poslední den lhůty je 30. 11. 2026 (pondělí)." in n.body
    assert "poštou na adresu Prokešovo náměstí 8, 702 00 Ostrava" in n.body
    assert "osobně na podatelnu" in n.body
    assert "uznávaným elektronickým podpisem" in n.body
    assert "ze své datové schránky" in n.body
    assert n.body.startswith("Dobrý den,\n")
    assert "Magistrát města Ostravy" in n.body


def test_accepted_without_confirmation() -> None:
    n = accepted(confirmation_needed=False, deadline=None)
    assert n.subject == "Podání MMO/00042/2026 bylo přijato"
    assert "Podání není třeba dále potvrzovat." in n.body
    assert "lhůty" not in n.body


def test_accepted_needs_the_deadline_when_confirmation_is_needed() -> None:
    with pytest.raises(NoticeContextError) as exc:
        accepted(deadline=None)
    assert exc.value.code == "notification_context_invalid"
    assert "'deadline'" in str(exc.value)


def test_reminder() -> None:
    n = render_notice(
        "reminder",
        to=TO,
        context={"reference": "MMO/00042/2026", "deadline": "2026-11-30", "days_left": 2},
    )
    assert n.subject == "Připomínka: potvrďte podání MMO/00042/2026 do 30. 11. 2026"
    assert "končí 30. 11. 2026 (pondělí); zbývají 2 dny." in n.body
    last = render_notice(
        "reminder",
        to=TO,
        context={"reference": "X/1/2026", "deadline": "2026-11-30", "days_left": 0},
    )
    assert "dnes je poslední den lhůty" in last.body
    with pytest.raises(NoticeContextError):
        render_notice(
            "reminder", to=TO, context={"reference": "X", "deadline": "2026-11-30", "days_left": -1}
        )


@pytest.mark.parametrize(
    ("context", "phrase"),
    [
        ({"how": "posted", "date": "2026-11-30"}, "podali na poště dne 30. 11. 2026"),
        ({"how": "received", "date": date(2026, 11, 27)}, "na podatelnu dne 27. 11. 2026"),
        (
            {"how": "resubmitted_signed", "linked_reference": "MMO/00050/2026"},
            "uznávaným elektronickým podpisem (evidenční číslo MMO/00050/2026)",
        ),
        ({"how": "data_box", "linked_reference": "MMO/00051/2026"}, "z Vaší datové schránky"),
    ],
)
def test_confirmed(context: dict[str, object], phrase: str) -> None:
    n = render_notice("confirmed", to=TO, context={"reference": "MMO/00042/2026", **context})
    assert n.subject == "Podání MMO/00042/2026 bylo potvrzeno"
    assert phrase in n.body


def test_confirmed_needs_a_known_method_and_a_date() -> None:
    with pytest.raises(NoticeContextError, match="telepathy"):
        render_notice("confirmed", to=TO, context={"reference": "R", "how": "telepathy"})
    with pytest.raises(NoticeContextError, match="'date'"):
        render_notice("confirmed", to=TO, context={"reference": "R", "how": "posted"})


def test_lapsed_cites_the_statute() -> None:
    dr = render_notice(
        "lapsed", to=TO, context={"reference": "R/1", "deadline": "2026-11-30", "rules": "dr"}
    )
    assert dr.subject == "Podání R/1 nebylo včas potvrzeno"
    assert "uplynula dne 30. 11. 2026" in dr.body
    assert "§ 71 odst. 3 daňového řádu" in dr.body
    sr = render_notice(
        "lapsed", to=TO, context={"reference": "R/1", "deadline": "2026-11-30", "rules": "sr"}
    )
    assert "§ 37 odst. 4 správního řádu" in sr.body


def test_receipt_issued() -> None:
    n = render_notice(
        "receipt_issued",
        to=TO,
        context={
            "reference": "R/1",
            "download_url": "http://127.0.0.1:8000/d/abc",
            "expires_at": datetime(2026, 11, 24, 13, 20, tzinfo=UTC),
        },
    )
    assert n.subject == "Potvrzení o přijetí podání R/1"
    assert "\nhttp://127.0.0.1:8000/d/abc\n" in n.body
    assert "Odkaz platí do 24. 11. 2026 v 14:20." in n.body


def test_rejected() -> None:
    n = render_notice(
        "rejected",
        to=TO,
        context={"reasons": ["Příloha je větší než 20 MB.", "Formulář neodpovídá schématu."]},
    )
    assert n.subject == "Podání nebylo přijato"
    assert n.reference == ""
    assert " – Příloha je větší než 20 MB.\n – Formulář neodpovídá schématu.\n" in n.body
    with pytest.raises(NoticeContextError):
        render_notice("rejected", to=TO, context={"reasons": []})


def test_unknown_kind() -> None:
    with pytest.raises(UnknownNoticeKindError) as exc:
        render_notice("party", to=TO, context={})
    assert exc.value.code == "notification_unknown_kind"


def test_every_kind_renders_valid_utf8() -> None:
    contexts: dict[str, dict[str, object]] = {
        "accepted": {"reference": "R", "received_at": "2026-11-24T13:05:00Z"},
        "reminder": {"reference": "R", "deadline": "2026-11-30", "days_left": 3},
        "confirmed": {"reference": "R", "how": "data_box"},
        "lapsed": {"reference": "R", "deadline": "2026-11-30"},
        "receipt_issued": {"reference": "R", "download_url": "http://x/y"},
        "rejected": {"reasons": ["Chybí podpis."]},
        "verify_email": {"link": "http://x/verify/t", "valid_hours": 48},
        "password_reset": {"link": "http://x/reset/t", "valid_minutes": 60},
        "account_exists": {"reset_link": "http://x/heslo"},
    }
    assert set(contexts) == set(KINDS)
    for kind, context in contexts.items():
        n = render_notice(kind, to=TO, context=context)
        n.body.encode("utf-8")
        assert n.body.endswith("neodpovídejte na ni prosím.\n")


# -- notice ids and headers ---------------------------------------------------------------


def test_message_id_follows_the_idempotency_key() -> None:
    a = accepted()
    b = accepted(received_at="2026-11-24T13:05:00+00:00")
    assert a.message_id == b.message_id
    assert a.message_id.startswith("<") and a.message_id.endswith("@podatelna>")
    other = render_notice(
        "accepted",
        to=TO,
        context={"reference": "R", "received_at": "2026-11-24T13:05:00Z"},
        idempotency_key="accepted:sub-2",
    )
    assert other.message_id != a.message_id


def test_without_a_key_the_id_follows_the_content() -> None:
    ctx = {"reference": "R", "deadline": "2026-11-30", "days_left": 3}
    one = render_notice("reminder", to=TO, context=ctx)
    assert one.message_id == render_notice("reminder", to=TO, context=ctx).message_id
    changed = render_notice("reminder", to=TO, context={**ctx, "days_left": 2})
    assert one.message_id != changed.message_id


@pytest.mark.parametrize(
    "address",
    ["", "nobody", "a@b.cz\r\nBcc: x@y.cz", "Jana <a@b.cz>", "a@b.cz, c@d.cz", "@b.cz"],
)
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidAddressError) as exc:
        render_notice("rejected", to=address, context={"reasons": ["x"]})
    assert exc.value.code == "notification_invalid_address"


def test_headers_cannot_be_injected() -> None:
    with pytest.raises(NotificationError):
        Notice(to=TO, subject="a\r\nBcc: x@y.cz", body="b", kind="lapsed")
    with pytest.raises(NotificationError):
        Notice(to=TO, subject="a", body="b", kind="lapsed", headers=(("To", "x@y.cz"),))


def test_notice_round_trips() -> None:
    n = accepted()
    assert Notice.from_dict(n.to_dict()) == n


def test_email_form() -> None:
    msg = accepted().to_email(sender="podatelna@localhost", date=CLOCK.now())
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Podání MMO/00042/2026 bylo přijato – potvrďte je do 30. 11. 2026"
    assert parsed["To"] == TO
    assert parsed["From"] == "podatelna@localhost"
    assert parsed["Message-ID"] == accepted().message_id
    assert parsed["Date"] == "Tue, 24 Nov 2026 14:06:00 +0100"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Podatelna-Reference"] == "MMO/00042/2026"
    assert parsed.get_content_charset() == "utf-8"
    assert "Poslední den lhůty je 30. 11. 2026" in parsed.get_content()
    assert b"\r\n" in msg.as_bytes()  # RFC 5322 line ends


# -- the outbox ---------------------------------------------------------------------------


def test_outbox_writes_one_eml_per_notice(tmp_path: Path) -> None:
    outbox = OutboxNotifier(tmp_path / "outbox", sender="podatelna@mmo.example", clock=CLOCK)
    assert isinstance(outbox, Notifier)
    n = accepted()
    outbox.send(n)
    outbox.send(n)  # a retried task
    outbox.send(accepted())  # the same notice rendered again
    files = sorted((tmp_path / "outbox").iterdir())
    assert files == [tmp_path / "outbox" / f"{n.notice_id}.eml"]
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == n.message_id
    assert parsed["From"] == "podatelna@mmo.example"
    assert "30. 11. 2026" in parsed.get_content()
    [msg] = outbox.messages()
    assert msg["To"] == TO


def test_outbox_keeps_different_notices_apart(tmp_path: Path) -> None:
    outbox = OutboxNotifier(tmp_path, clock=CLOCK)
    outbox.send(accepted())
    outbox.send(render_notice("rejected", to=TO, context={"reasons": ["Chybí podpis."]}))
    assert [m["X-Podatelna-Kind"] for m in outbox.messages()] == ["accepted", "rejected"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files


def test_outbox_concurrent_writers_leave_one_file(tmp_path: Path) -> None:
    outbox = OutboxNotifier(tmp_path, clock=CLOCK)
    n = accepted()
    threads = [threading.Thread(target=outbox.send, args=(n,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.name for p in tmp_path.iterdir()] == [f"{n.notice_id}.eml"]


def test_outbox_unwritable_is_a_delivery_error(tmp_path: Path) -> None:
    directory = tmp_path / "outbox"
    outbox = OutboxNotifier(directory, clock=CLOCK)
    directory.rmdir()
    directory.write_bytes(b"not a directory")  # fails for root too, unlike chmod
    with pytest.raises(DeliveryError) as exc:
        outbox.send(accepted())
    assert exc.value.code == "notification_delivery_failed"
    assert str(directory) in str(exc.value)
    assert not exc.value.permanent


def test_outbox_says_it_is_a_development_default(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="podatelna.notifications"):
        OutboxNotifier(tmp_path)
    assert "development default" in caplog.text


# -- choosing the backend -----------------------------------------------------------------


def test_build_notifier_outbox_default(tmp_path: Path) -> None:
    notifier = build_notifier(NotificationSettings(), tmp_path)
    assert isinstance(notifier, OutboxNotifier)
    assert notifier.directory == tmp_path / "outbox"
    custom = build_notifier(NotificationSettings(outbox_dir=str(tmp_path / "mail")), tmp_path)
    assert isinstance(custom, OutboxNotifier)
    assert custom.directory == tmp_path / "mail"


def test_build_notifier_smtp(tmp_path: Path) -> None:
    settings = NotificationSettings(
        kind="smtp",
        smtp_host="mail.example",
        smtp_port=587,
        smtp_starttls=True,
        smtp_username="u",
        smtp_password="p",
        sender="podatelna@mmo.example",
    )
    notifier = build_notifier(settings, tmp_path)
    assert isinstance(notifier, SmtpNotifier)
    assert (notifier.host, notifier.port, notifier.starttls) == ("mail.example", 587, True)
    assert (notifier.username, notifier.password, notifier.sender) == (
        "u",
        "p",
        "podatelna@mmo.example",
    )
    assert not (tmp_path / "outbox").exists()
