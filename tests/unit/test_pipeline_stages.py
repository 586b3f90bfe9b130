"""The pipeline's stages on the embedded defaults: one transaction for validate → verify →
register when nothing stops a submission, stage by stage otherwise, and the cheap path past the
signature verifier for plainly unsigned XML."""

from __future__ import annotations

import base64
import importlib
import io
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dramatiq import Message
from sqlalchemy import select

import schemas
from filing_registry import (
    AuditEntry,
    Filing,
    OutboxMessage,
    StatusEvent,
    Submission,
    verify_chain,
)
from intake import Acceptance, Incoming, IncomingFile, Sender
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.pipeline.stages import plainly_unsigned, verify_files
from podatelna.pipeline.stages import validate as validate_stage
from podatelna.service import describe, file_submission

#: the module (``intake.accept`` is also the name of its function, re-exported by the package)
accept_module = importlib.import_module("intake.accept")
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: the status lines and audit entries of an unsigned filing registered (each act its own)
REGISTERED_EVENTS = ["received", "validated", "verified", "registered", "awaiting_confirmation"]
REGISTERED_ACTS = [
    "submission.received",
    "submission.validated",
    "submission.verified",
    "filing.registered",
]


def _app(request: pytest.FixtureRequest, tmp_path: Path, *, at_intake: bool) -> App:
    overrides: dict[str, object] = {
        "data_dir": str(tmp_path / "var"),
        "broker": {"register_at_intake": at_intake},
    }
    if request.param == "postgres":
        overrides["database"] = {"url": request.getfixturevalue("pg_url")}
    application = App(load_settings(environ={}, overrides=overrides))
    application.migrate()
    application.ensure_buckets()
    return application


@pytest.fixture(params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """Embedded defaults, and the same on PostgreSQL (where a valid submission's acts are
    written by fewer, fused statements); every submission goes through the stages
    (``broker.register_at_intake`` off: these tests are about the stages)."""
    application = _app(request, tmp_path, at_intake=False)
    yield application
    application.close()


@pytest.fixture(params=["sqlite", "postgres"])
def app_at_intake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """As :func:`app`, with ``broker.register_at_intake`` on (the default)."""
    application = _app(request, tmp_path, at_intake=True)
    yield application
    application.close()


def _file(app: App, sample: str) -> str:
    acc = file_submission(
        app,
        Incoming(
            "portal",
            Sender("jana@example.cz", "Jana Nováková"),
            IncomingFile(
                f"{sample}.xml", io.BytesIO(schemas.sample_path(sample).read_bytes()), role="form"
            ),
            idempotency_key=uuid.uuid4().hex,
        ),
    )
    return acc.submission_id


def _trail(app: App, sid: str) -> tuple[str, list[str], list[str], list[tuple[str, bool]]]:
    with app.sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None
        events = s.execute(
            select(StatusEvent.state)
            .where(StatusEvent.submission_id == sid)
            .order_by(StatusEvent.id)
        ).scalars()
        acts = s.execute(
            select(AuditEntry.action)
            .where(AuditEntry.object_id.in_([sid, *([sub.filing.reference] if sub.filing else [])]))
            .order_by(AuditEntry.seq)
        ).scalars()
        outbox = s.execute(
            select(OutboxMessage.stage, OutboxMessage.sent_at.is_not(None))
            .where(OutboxMessage.submission_id == sid)
            .order_by(OutboxMessage.id)
        ).all()
        return sub.state, list(events), list(acts), [(m, bool(sent)) for m, sent in outbox]


def test_a_valid_unsigned_filing_is_validated_verified_and_registered_in_one_go(app: App) -> None:
    sid = _file(app, "obecne-podani")
    out = app.pipeline.run_inline(sid, "validate")
    assert [(stage, s) for _id, stage, s in out] == [("receipt", sid)]
    state, events, acts, outbox = _trail(app, sid)
    assert state == "registered"
    # every act keeps its own status line, audit entry and (acknowledged) outbox row
    assert events == REGISTERED_EVENTS
    assert acts == REGISTERED_ACTS
    assert outbox == [("validate", True), ("verify", True), ("register", True), ("receipt", False)]
    with app.sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None and sub.validation and sub.verification and sub.timestamp_token
        assert sub.form_type == "obecne-podani" and sub.subject
        # the media type detected from the content replaces the one declared (none here)
        assert [f.media_type for f in sub.files] == ["application/xml"]
    # the later stages find nothing left to do
    assert app.pipeline.run_inline(sid, "verify") == []
    assert app.pipeline.run_inline(sid, "register") == []
    with app.sessions() as s:
        assert verify_chain(s).ok


def test_an_invalid_filing_is_rejected_by_validation_alone(app: App) -> None:
    sid = _file(app, "invalid-obecne-podani-chybi-vec")
    out = app.pipeline.run_inline(sid, "validate")
    assert [stage for _id, stage, _s in out] == ["reject_notice"]
    state, events, acts, _outbox = _trail(app, sid)
    assert state == "rejected"
    assert events == ["received", "rejected"]
    assert acts == ["submission.received", "submission.rejected"]


def test_a_form_that_needs_a_signature_goes_stage_by_stage_to_its_rejection(app: App) -> None:
    sid = _file(app, "stavebni-ohlaseni")
    assert [m[1] for m in app.pipeline.run_inline(sid, "validate")] == ["verify"]
    assert _trail(app, sid)[0] == "validated"
    assert [m[1] for m in app.pipeline.run_inline(sid, "verify")] == ["reject_notice"]
    state, events, acts, _outbox = _trail(app, sid)
    assert state == "rejected"
    assert events == ["received", "validated", "rejected"]
    assert acts == ["submission.received", "submission.validated", "submission.rejected"]


def _xml_files() -> list[tuple[str, bytes]]:
    files = [(p.name, p.read_bytes()) for p in sorted(schemas.SAMPLES_DIR.glob("*.xml"))]
    files += [(p.name, p.read_bytes()) for p in sorted(CORPUS.glob("*.xml"))]
    return files


@pytest.mark.parametrize(
    ("name", "data"), _xml_files(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_short_cut_gives_the_verifiers_own_report(app: App, name: str, data: bytes) -> None:
    """For every sample form and hostile XML of the corpus: the same report, with or without
    the asynchronous verifier."""
    ours = verify_files(app, [(name, data)], at=AT)
    theirs = app.verify_files([(name, data)], at=AT)
    assert ours.to_dict() == theirs.to_dict()
    assert ours.summary("cs") == theirs.summary("cs")


@pytest.mark.parametrize(
    "data",
    [
        b'<a xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Signature/></a>',
        b"%PDF-1.7\n%...",
        b"<x><!-- %PDF- --></x>",
        b"\x30\x82\x01\x00",  # DER, as CMS starts
        b"plain text",
        b"",
    ],
)
def test_anything_that_may_carry_a_signature_goes_to_the_verifier(data: bytes) -> None:
    assert not plainly_unsigned(data)


def test_plain_xml_with_a_bom_or_leading_space_is_plainly_unsigned() -> None:
    assert plainly_unsigned(b"\xef\xbb\xbf<a/>")
    assert plainly_unsigned(b"\n  <a/>")


def _file_acceptance(app: App, sample: str) -> Acceptance:
    return file_submission(
        app,
        Incoming(
            "portal",
            Sender("jana@example.cz"),
            IncomingFile("f.xml", io.BytesIO(schemas.sample_path(sample).read_bytes()), "form"),
            idempotency_key=uuid.uuid4().hex,
        ),
    )


def _store_reads(app: App, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    get = app.store.get

    def counting(bucket: str, key: str) -> bytes:
        reads.append(key)
        return get(bucket, key)

    monkeypatch.setattr(app.store, "get", counting)
    return reads


def test_the_validate_message_from_intake_carries_the_small_form(app: App) -> None:
    data = schemas.sample_path("obecne-podani").read_bytes()
    acc = _file_acceptance(app, "obecne-podani")
    assert acc.form_bytes == data
    queue = app.pipeline.broker.queues[app.pipeline.actors["validate"].queue_name]
    message = Message.decode(queue.get_nowait())
    assert message.args == (acc.submission_id,)
    assert base64.b64decode(message.kwargs["form"]) == data


def test_a_form_over_the_hint_size_is_not_carried(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accept_module, "FORM_HINT_MAX", 100)
    acc = _file_acceptance(app, "obecne-podani")
    assert acc.form_bytes is None
    queue = app.pipeline.broker.queues[app.pipeline.actors["validate"].queue_name]
    assert "form" not in Message.decode(queue.get_nowait()).kwargs


def test_validate_takes_the_carried_form_without_reading_the_store(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = _file_acceptance(app, "obecne-podani")
    reads = _store_reads(app, monkeypatch)
    assert acc.form_bytes is not None
    out = app.pipeline.actors["validate"].fn(
        acc.submission_id, form=base64.b64encode(acc.form_bytes).decode()
    )
    assert out is None and reads == []
    assert _trail(app, acc.submission_id)[0] == "registered"


def test_validate_reads_the_store_when_the_carried_bytes_are_not_the_recorded_ones(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes that are not the form's (a tampered or mixed-up message) are never validated: the
    stage validates what the store holds under the recorded hash."""
    acc = _file_acceptance(app, "obecne-podani")
    reads = _store_reads(app, monkeypatch)
    bad = schemas.sample_path("invalid-obecne-podani-chybi-vec").read_bytes()
    assert validate_stage(app, acc.submission_id, form=bad) != []
    assert len(reads) == 1
    assert _trail(app, acc.submission_id)[0] == "registered"


def _drain(app: App, stage: str) -> list[Message[Any]]:
    queue = app.pipeline.broker.queues[app.pipeline.actors[stage].queue_name]
    out = []
    while not queue.empty():
        out.append(Message.decode(queue.get_nowait()))
    return out


def _ids(messages: list[Message[Any]]) -> list[str]:
    """The submission ids the messages carry, in order (a batch's first, then its ``more``)."""
    return [sid for m in messages for sid in [m.args[0], *(x[0] for x in m.kwargs.get("more", []))]]


def test_messages_of_one_stage_are_sent_together_in_small_batches(app: App) -> None:
    """Six validate messages go as two broker messages (4 + 2, see runner.BATCH), each with its
    form; the worker runs each batch's submissions one after another and sends their receipt
    messages together too."""
    accs = [_file_acceptance(app, "obecne-podani") for _ in range(6)]
    _drain(app, "validate")  # intake sent each alone; send them again, together
    messages = [m for acc in accs for m in acc.outbox_ids]
    forms = {acc.submission_id: acc.form_bytes for acc in accs if acc.form_bytes}
    assert len(forms) == 6
    assert app.pipeline.dispatch(messages, forms=forms) == 2
    batches = _drain(app, "validate")
    assert [1 + len(m.kwargs.get("more", [])) for m in batches] == [4, 2]
    assert _ids(batches) == [acc.submission_id for acc in accs]
    for m in batches:  # every form carried, as its own
        carried = [m.kwargs["form"], *(x[1] for x in m.kwargs.get("more", []))]
        assert [base64.b64decode(f) for f in carried] == [forms[i] for i in _ids([m])]
    for m in batches:
        app.pipeline.actors["validate"].fn(*m.args, **m.kwargs)
    assert all(_trail(app, acc.submission_id)[0] == "registered" for acc in accs)
    receipts = _drain(app, "receipt")
    assert len(receipts) == 2 and sorted(_ids(receipts)) == sorted(a.submission_id for a in accs)


def test_a_failure_in_a_batch_leaves_the_others_done_and_the_batch_retried(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podatelna.pipeline import runner

    first, bad, last = (_file_acceptance(app, "obecne-podani").submission_id for _ in range(3))
    _drain(app, "validate")
    real = runner.RUNNERS["validate"]

    def failing(application: App, sid: str) -> list[Any]:
        if sid == bad:
            raise RuntimeError("the database went away")
        return real(application, sid)

    monkeypatch.setitem(runner.RUNNERS, "validate", failing)
    run = app.pipeline.actors["validate"].fn
    with pytest.raises(RuntimeError, match="went away"):  # dramatiq retries the message
        run(first, more=[[bad, ""], [last, ""]])
    assert [_trail(app, s)[0] for s in (first, bad, last)] == [
        "registered",
        "received",
        "registered",
    ]
    assert sorted(_ids(_drain(app, "receipt"))) == sorted([first, last])  # sent all the same
    monkeypatch.undo()
    run(first, more=[[bad, ""], [last, ""]])  # the retry: done ones do nothing again
    assert _trail(app, bad)[0] == "registered"
    assert _ids(_drain(app, "receipt")) == [bad]


# -- registration at intake (broker.register_at_intake) ----------------------------------------


def _queued(app: App, stage: str) -> list[tuple[Any, ...]]:
    queue = app.pipeline.broker.queues[app.pipeline.actors[stage].queue_name]
    return [Message.decode(m).args for m in list(queue.queue)]


def test_a_valid_unsigned_form_is_registered_at_intake(app_at_intake: App) -> None:
    app = app_at_intake
    acc = _file_acceptance(app, "obecne-podani")
    sid = acc.submission_id
    # acknowledged registered: the three acts were written with the submission, in one commit
    assert acc.state == "registered" and acc.created
    assert [(stage, s) for _id, stage, s in acc.outbox_ids] == [("receipt", sid)]
    assert acc.form_bytes is None  # nothing left to validate, so nothing to carry
    state, events, acts, outbox = _trail(app, sid)
    assert state == "registered"
    assert events == REGISTERED_EVENTS
    assert acts == REGISTERED_ACTS
    assert outbox == [("receipt", False)]
    assert _queued(app, "receipt") == [(sid,)] and _queued(app, "validate") == []
    with app.sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None and sub.validation and sub.verification and sub.timestamp_token
        assert sub.verification["recognised_form"] is False
        assert sub.form_type == "obecne-podani" and sub.subject
        assert [f.media_type for f in sub.files] == ["application/xml"]
        assert sub.filing is not None and sub.filing.seq == 1
        assert sub.filing.tracker_state == "awaiting_confirmation" and sub.filing.deadline
        assert verify_chain(s).ok
    assert re.fullmatch(
        rf"{app.settings.office.code}/00001/\d{{4}}", describe(app, sid)["reference"]
    )
    # the stages find nothing left to do
    for stage in ("validate", "verify", "register"):
        assert app.pipeline.run_inline(sid, stage) == []


@pytest.mark.parametrize(
    ("sample", "attach", "final"),
    [
        ("invalid-obecne-podani-chybi-vec", False, "rejected"),  # invalid: its errors stored
        ("stavebni-ohlaseni", False, "rejected"),  # its type needs a recognised signature
        ("obecne-podani", True, "registered"),  # attachments are checked by the stages
    ],
)
def test_what_intake_does_not_register_goes_stage_by_stage(
    app_at_intake: App, sample: str, attach: bool, final: str
) -> None:
    app = app_at_intake
    acc = file_submission(
        app,
        Incoming(
            "portal",
            Sender("jana@example.cz"),
            IncomingFile("f.xml", io.BytesIO(schemas.sample_path(sample).read_bytes()), "form"),
            [IncomingFile("p.txt", io.BytesIO(b"dobry den\n"))] if attach else [],
            idempotency_key=uuid.uuid4().hex,
        ),
    )
    sid = acc.submission_id
    assert acc.state == "received"
    assert _trail(app, sid) == (
        "received",
        ["received"],
        ["submission.received"],
        [("validate", False)],
    )
    assert _queued(app, "validate") == [(sid,)]
    for stage in ("validate", "verify", "register"):
        app.pipeline.run_inline(sid, stage)
    assert _trail(app, sid)[0] == final
    with app.sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None
        assert (sub.filing.seq if sub.filing else None) == (1 if final == "registered" else None)


def test_a_repeated_key_at_intake_answers_the_first_and_takes_no_second_number(
    app_at_intake: App,
) -> None:
    app = app_at_intake
    key = uuid.uuid4().hex

    def send() -> Acceptance:
        form = io.BytesIO(schemas.sample_path("obecne-podani").read_bytes())
        return file_submission(
            app,
            Incoming(
                "cli",
                Sender("a@example.cz"),
                IncomingFile("f.xml", form, "form"),
                idempotency_key=key,
            ),
        )

    first, again = send(), send()
    assert first.created and not again.created
    assert again.submission_id == first.submission_id and again.state == "registered"
    second = _file_acceptance(app, "parkovani")
    with app.sessions() as s:
        seqs = s.execute(select(Filing.seq).order_by(Filing.seq)).scalars().all()
    assert second.state == "registered" and seqs == [1, 2]


def test_a_failure_at_intake_leaves_the_submission_to_the_stages(
    app_at_intake: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever goes wrong while preparing the acts at intake (here: the timestamp authority)
    does not refuse the submission: it is recorded as received, for the validate stage; and
    for a while intake does not try again, so that requests do not each wait for the failure."""
    app = app_at_intake

    calls: list[bytes] = []

    def down(digest: bytes) -> bytes:
        calls.append(digest)
        raise ConnectionError("the timestamp authority is not reachable")

    monkeypatch.setattr(app.timestamper, "timestamp_token", down)
    acc = _file_acceptance(app, "obecne-podani")
    assert acc.state == "received" and acc.form_bytes is not None
    assert _trail(app, acc.submission_id)[3] == [("validate", False)]
    # for a while the next ones do not wait for the authority at intake: straight to the pipeline
    again = _file_acceptance(app, "parkovani")
    assert again.state == "received" and len(calls) == 1
    monkeypatch.undo()
    for sid in (acc.submission_id, again.submission_id):
        assert [m[1] for m in app.pipeline.run_inline(sid, "validate")] == ["receipt"]
        assert _trail(app, sid)[0] == "registered"
    app.settle_paused_until = float("-inf")  # the pause over: registered at intake again
    assert _file_acceptance(app, "obecne-podani").state == "registered"
