"""The tracker through the application: filings made by the pipeline, the sweeper with a frozen
clock, two concurrent sweepers (SQLite and PostgreSQL), reminders, linking a data-box re-filing,
the notices in the outbox, the CLI and the clerks' HTTP API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

import schemas
from filing_registry import AuditEntry, Filing, StatusEvent, verify_chain
from intake import Incoming, IncomingFile, Sender
from podatelna.accounts import Role
from podatelna.app import App
from podatelna.cli import main
from podatelna.clock import FrozenClock
from podatelna.config import load_settings
from podatelna.service import file_submission
from podatelna.tracker_jobs import link_confirmation, run_periodically, sweep_tracker
from podatelna.web.clerk_api import clerk_router
from tests.threads import run_together
from tests.users import bearer

pytestmark = pytest.mark.integration

#: Monday 2 March 2026, 10:00 in Prague; day 3 = Thursday 5 March; day 5 is Saturday 7 March,
#: so the last day is Monday 9 March.
FILED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LAST_DAY = date(2026, 3, 9)
STAGES = ("validate", "verify", "register", "receipt", "notify")


def _app(tmp_path: Path, *, db_url: str | None = None, at: datetime = FILED) -> App:
    overrides: dict[str, Any] = {"data_dir": str(tmp_path)}
    if db_url:
        overrides["database"] = {"url": db_url}
    app = App(load_settings(environ={}, overrides=overrides), clock=FrozenClock(at))
    app.migrate()
    app.ensure_buckets()
    return app


def _clock(app: App) -> FrozenClock:
    return cast(FrozenClock, app.clock)


def _file(
    app: App,
    *,
    sample: str = "obecne-podani",
    data: bytes | None = None,
    channel: str = "portal",
    sender: str = "jana@example.cz",
    confirms: str | None = None,
) -> str:
    form = data if data is not None else schemas.sample_path(sample).read_bytes()
    path = app.settings.data_path / f"form-{uuid.uuid4().hex}.xml"
    path.write_bytes(form)
    with path.open("rb") as fh:
        acc = file_submission(
            app,
            Incoming(
                channel=channel,
                sender=Sender(sender, "Jana Nováková"),
                form=IncomingFile(f"{sample}.xml", fh, role="form"),
                idempotency_key=uuid.uuid4().hex,
                confirms_reference=confirms,
            ),
        )
    for stage in STAGES:
        app.pipeline.run_inline(acc.submission_id, stage)
    return acc.submission_id


def _filing(app: App, sid: str) -> Filing:
    with app.sessions() as session:
        filing = session.execute(select(Filing).where(Filing.submission_id == sid)).scalar_one()
        session.expunge(filing)
        return filing


def _notices(app: App) -> list[EmailMessage]:
    out = []
    for p in sorted((app.settings.data_path / "outbox").glob("*.eml")):
        msg = cast(EmailMessage, message_from_bytes(p.read_bytes(), policy=policy.default))
        out.append(msg)
    return out


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return cast(str, part.get_content())


def _events(app: App, fid: int) -> list[str]:
    with app.sessions() as session:
        q = select(StatusEvent.state).where(StatusEvent.filing_id == fid).order_by(StatusEvent.id)
        return list(session.execute(q).scalars())


def _audit_actions(app: App, reference: str) -> list[str]:
    with app.sessions() as session:
        q = select(AuditEntry.action).where(AuditEntry.object_id == reference)
        return list(session.execute(q.order_by(AuditEntry.seq)).scalars())


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    a = _app(tmp_path)
    yield a
    a.close()


def test_acceptance_notice_states_the_deadline(app: App) -> None:
    sid = _file(app)
    filing = _filing(app, sid)
    assert filing.tracker_state == "awaiting_confirmation"
    assert filing.deadline == LAST_DAY
    (accepted,) = _notices(app)
    assert "9. 3. 2026" in _body(accepted)
    assert filing.reference in _body(accepted)


def test_sweeper_with_frozen_clock_reminds_then_lapses_once(app: App) -> None:
    sid = _file(app)
    ref = _filing(app, sid).reference
    clock = _clock(app)
    schedule = [
        # (now, lapsed, reminded)
        (datetime(2026, 3, 4, 8, 0, tzinfo=UTC), 0, 0),  # day 2: nothing
        (datetime(2026, 3, 5, 6, 0, tzinfo=UTC), 0, 1),  # day 3: reminder
        (datetime(2026, 3, 5, 15, 0, tzinfo=UTC), 0, 0),  # day 3 again: not twice
        (datetime(2026, 3, 7, 8, 0, tzinfo=UTC), 0, 0),  # Saturday, nominal day 5: not the last
        (datetime(2026, 3, 9, 7, 0, tzinfo=UTC), 0, 1),  # Monday, the last day
        (datetime(2026, 3, 9, 22, 30, tzinfo=UTC), 0, 0),  # 23:30 Prague: still the last day
        (datetime(2026, 3, 9, 23, 30, tzinfo=UTC), 1, 0),  # 00:30 Prague on 10 March: lapsed
        (datetime(2026, 3, 10, 9, 0, tzinfo=UTC), 0, 0),
    ]
    for now, lapsed, reminded in schedule:
        clock.set(now)
        counts = sweep_tracker(app, now)
        assert (counts["lapsed"], counts["reminded"]) == (lapsed, reminded), now
    filing = _filing(app, sid)
    assert filing.tracker_state == "lapsed"
    assert filing.reminders_sent == [3, 5]
    assert _events(app, filing.id)[-1] == "lapsed"
    assert _audit_actions(app, ref)[-2:] == ["filing.lapsed", "notice.lapsed"]
    subjects = [m["Subject"] for m in _notices(app)]
    assert len(subjects) == 4, subjects  # accepted, 2 reminders, lapsed
    bodies = [_body(m) for m in _notices(app)]
    assert all("9. 3. 2026" in b for b in bodies)
    assert sum("dnes je poslední den lhůty" in b for b in bodies) == 1
    assert sum("37 odst. 4" in b for b in bodies) == 1
    with app.sessions() as session:
        assert verify_chain(session).ok


def _race(app: App, n: int, now: datetime) -> list[dict[str, int]]:
    results: list[dict[str, int]] = []
    run_together(lambda: results.append(sweep_tracker(app, now)), [()] * n, timeout=60)
    return results


def _concurrent_sweepers(app: App) -> None:
    sids = [_file(app, sender=f"obcan{i}@example.cz") for i in range(3)]
    outbox = app.settings.data_path / "outbox"
    before = set(outbox.glob("*.eml"))
    # day 3: four sweepers at once send each reminder once
    reminded = _race(app, 4, datetime(2026, 3, 5, 7, 0, tzinfo=UTC))
    assert sum(r["reminded"] for r in reminded) == 3
    assert len(set(outbox.glob("*.eml")) - before) == 3
    # after the last day: four sweepers at once lapse each filing once, one notice each
    lapse_at = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    _clock(app).set(lapse_at)
    before = set(outbox.glob("*.eml"))
    results = _race(app, 4, lapse_at)
    assert sum(r["lapsed"] for r in results) == 3, results
    assert sum(r["notified"] for r in results) == 3, results
    new = set(outbox.glob("*.eml")) - before
    assert len(new) == 3
    for sid in sids:
        filing = _filing(app, sid)
        assert filing.tracker_state == "lapsed"
        assert _events(app, filing.id).count("lapsed") == 1
        assert _audit_actions(app, filing.reference).count("filing.lapsed") == 1
    with app.sessions() as session:
        assert verify_chain(session).ok


def test_two_concurrent_sweepers_sqlite(app: App) -> None:
    _concurrent_sweepers(app)


def test_two_concurrent_sweepers_postgres(tmp_path: Path, pg_url: str) -> None:
    app = _app(tmp_path, db_url=pg_url)
    try:
        _concurrent_sweepers(app)
    finally:
        app.close()


def test_data_box_refiling_with_same_content_confirms(app: App) -> None:
    sid = _file(app)
    target = _filing(app, sid)
    _clock(app).set(datetime(2026, 3, 6, 10, 0, tzinfo=UTC))
    # same form data, other bytes: an added comment and white space inside tags
    original = schemas.sample_path("obecne-podani").read_bytes()
    head, sep, rest = original.partition(b"?>")
    variant = head + sep + b"\n<!-- znovu z datove schranky -->" + rest if sep else original
    rid = _file(app, data=variant, channel="databox", confirms=target.reference)
    refiling = _filing(app, rid)
    assert refiling.tracker_state == "not_required"
    # the pipeline's notify stage ran the link when the re-filing was registered
    confirmed = _filing(app, sid)
    assert confirmed.tracker_state == "confirmed"
    assert confirmed.confirmation is not None
    assert confirmed.confirmation["how"] == "data_box"
    assert confirmed.confirmation["by_reference"] == refiling.reference
    assert _audit_actions(app, target.reference)[-1] == "filing.confirmed"
    notice = [m for m in _notices(app) if refiling.reference in _body(m) and "potvrzen" in _body(m)]
    assert notice, [m["Subject"] for m in _notices(app)]
    # running the hook again changes nothing and says why
    again = link_confirmation(app, rid)
    assert again is not None and not again.linked
    assert again.code == "not_awaiting_confirmation"


def test_refiling_with_other_content_is_not_linked(app: App) -> None:
    sid = _file(app)
    target = _filing(app, sid)
    other = schemas.sample_path("obecne-podani").read_bytes().replace(b"</", b" </", 1)
    rid = _file(app, data=other, channel="databox", confirms=target.reference)
    result = link_confirmation(app, rid)
    assert result is not None and not result.linked
    assert result.code == "link_content_differs", result
    assert "form data differ" in result.reason
    assert _filing(app, sid).tracker_state == "awaiting_confirmation"


def _cli(tmp_path: Path, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    config = tmp_path / "podatelna.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    code = main(["--config", str(config), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_list_confirm_and_sweep(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _filing(app, _file(app))
    b = _filing(app, _file(app, sender="petr@example.cz"))
    code, out, _ = _cli(tmp_path, "tracker", "list", "--json", capsys=capsys)
    assert code == 0
    rows = json.loads(out)
    assert [r["reference"] for r in rows] == [a.reference, b.reference]
    assert rows[0]["deadline"] == "2026-03-09"
    code, out, err = _cli(
        tmp_path, "confirm", a.reference, "--received-on", "2026-03-10", capsys=capsys
    )
    assert code == 1 and "[confirmation_late]" in err
    code, out, err = _cli(
        tmp_path, "confirm", a.reference, "--posted-on", "2026-03-09", capsys=capsys
    )
    assert code == 0, err
    assert "confirmed" in out
    code, out, _ = _cli(
        tmp_path, "tracker", "sweep", "--now", "2026-03-10T08:00:00+01:00", capsys=capsys
    )
    assert code == 0
    assert json.loads(out)["lapsed"] == 1
    assert _filing(app, _file_sid(app, b.reference)).tracker_state == "lapsed"
    code, out, _ = _cli(tmp_path, "tracker", "list", capsys=capsys)
    assert "No filing is awaiting confirmation." in out


def _file_sid(app: App, reference: str) -> str:
    with app.sessions() as session:
        q = select(Filing.submission_id).where(Filing.reference == reference)
        return session.execute(q).scalar_one()


def test_clerk_api_lists_and_confirms(app: App) -> None:
    a = _filing(app, _file(app))
    _clock(app).set(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    api = FastAPI()
    api.include_router(clerk_router(app, actor_of=lambda req: f"clerk:{req.headers['x-clerk']}"))
    clerk = bearer(app, "novak@mmo.example.cz", role=Role.CLERK)
    with TestClient(api, headers={"X-Clerk": "novak", **clerk}) as tc:
        r = tc.get("/api/v1/tracker/awaiting")
        assert r.status_code == 200
        (row,) = r.json()["filings"]
        assert row["reference"] == a.reference and row["days_left"] == 4
        url = f"/api/v1/filings/{a.reference}/confirmation"
        r = tc.post(url, json={"how": "received", "on": "2026-03-10"})
        assert r.status_code == 422 and r.json()["code"] == "confirmation_late"
        r = tc.post(url, json={"how": "posted"})
        assert r.status_code == 422 and r.json()["code"] == "invalid_confirmation"
        r = tc.post(
            "/api/v1/filings/MMO/99999/2026/confirmation",
            json={"how": "posted", "on": "2026-03-04"},
        )
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        r = tc.post(url, json={"how": "received", "on": "2026-03-05", "note": "osobně"})
        assert r.status_code == 200, r.text
        assert r.json()["tracker_state"] == "confirmed"
        r = tc.post(url, json={"how": "received", "on": "2026-03-05"})
        assert r.status_code == 409 and r.json()["code"] == "not_awaiting_confirmation"
        assert tc.get("/api/v1/tracker/awaiting").json()["filings"] == []
    with app.sessions() as session:
        q = select(AuditEntry.actor).where(AuditEntry.action == "filing.confirmed")
        assert session.execute(q).scalars().all() == ["clerk:novak"]


def test_sweeper_killed_after_lapsing_loses_no_notice(app: App, tmp_path: Path) -> None:
    sid = _file(app)
    reference = _filing(app, sid).reference
    config = tmp_path / "podatelna.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODATELNA_")}
    env["PODATELNA_FAILPOINTS"] = "tracker:after_lapse"
    proc = subprocess.run(
        [sys.executable, "-m", "podatelna.cli", "--config", str(config), "tracker", "sweep"]
        + ["--now", "2026-03-10T08:00:00+01:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert _filing(app, sid).tracker_state == "lapsed"
    outbox = app.settings.data_path / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 1  # only the acceptance notice
    # a sweep soon after leaves it to the (possibly still running) first sweeper
    soon = datetime(2026, 3, 10, 7, 5, tzinfo=UTC)
    assert sweep_tracker(app, soon)["recovered"] == 0
    later = datetime(2026, 3, 10, 7, 30, tzinfo=UTC)
    _clock(app).set(later)
    counts = sweep_tracker(app, later)
    assert (counts["lapsed"], counts["recovered"], counts["notified"]) == (0, 1, 1)
    assert sweep_tracker(app, later)["notified"] == 0
    lapse_notices = [m for m in _notices(app) if "37 odst. 4" in _body(m)]
    assert len(lapse_notices) == 1 and reference in _body(lapse_notices[0])
    assert _audit_actions(app, reference)[-2:] == ["filing.lapsed", "notice.lapsed"]


def test_cli_and_api_confirm_by_a_data_box_refiling(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _filing(app, _file(app))
    b = _filing(app, _file(app))
    form = schemas.sample_path("obecne-podani").read_bytes()
    same_a = _filing(app, _file(app, data=form, channel="databox"))
    same_b = _filing(app, _file(app, data=form, channel="databox"))
    other = _filing(app, _file(app, data=form.replace(b"</", b" </", 1), channel="databox"))
    code, _, err = _cli(
        tmp_path, "confirm", a.reference, "--by-filing", other.reference, capsys=capsys
    )
    assert code == 1 and "[link_content_differs]" in err
    code, out, err = _cli(
        tmp_path, "confirm", a.reference, "--by-filing", same_a.reference, "--json", capsys=capsys
    )
    assert code == 0, err
    conf = json.loads(out)["confirmation"]
    assert conf["how"] == "data_box" and conf["by_reference"] == same_a.reference
    api = FastAPI()
    api.include_router(clerk_router(app))
    with TestClient(api, headers=bearer(app, "novak@mmo.example.cz", role=Role.CLERK)) as tc:
        url = f"/api/v1/filings/{b.reference}/confirmation"
        r = tc.post(url, json={"how": "data_box", "by_reference": other.reference})
        assert r.status_code == 422 and r.json()["code"] == "link_content_differs"
        r = tc.post(url, json={"how": "data_box", "by_reference": same_b.reference})
        assert r.status_code == 200, r.text
        assert r.json()["confirmation"]["by_reference"] == same_b.reference


def test_periodic_sweeper_lapses_and_stops(app: App) -> None:
    from podatelna import accounts
    from tests.users import PASSWORD, make_user

    sid = _file(app)
    make_user(app, "odchazejici@example.cz")
    with app.sessions() as session, session.begin():  # ends now; erased 30 days later
        user = accounts.find_user(session, "odchazejici@example.cz")
        assert user is not None
        uid = user.id
        accounts.delete_account(
            session, user, PASSWORD, now=app.clock.now(), policy=app.account_policy
        )
    _clock(app).set(datetime(2026, 4, 10, 9, 0, tzinfo=UTC))  # past the deadline and the 30 days
    stop = threading.Event()
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(run_periodically(app, stop, interval=0.05)))
    t.start()
    try:
        for _ in range(200):
            with app.sessions() as session:
                gone = session.get(accounts.User, uid).email.startswith("erased-")  # type: ignore[union-attr]
            if _filing(app, sid).tracker_state == "lapsed" and gone:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        t.join(30)
    assert _filing(app, sid).tracker_state == "lapsed"
    assert result and result[0] >= 1
    assert sum("37 odst. 4" in _body(m) for m in _notices(app)) == 1
    with app.sessions() as session:  # the account's retention rides on the same tick
        erased = session.get(accounts.User, uid)
        assert erased is not None and erased.email == f"erased-{uid}@invalid"


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(cast(EmailMessage, msg))
        return "250 OK"


def test_reminder_and_lapse_notices_through_smtp_state_the_deadline(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    handler = _Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "notifications": {"kind": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port},
        },
    )
    app = App(settings, clock=FrozenClock(FILED))
    try:
        app.migrate()
        app.ensure_buckets()
        ref = _filing(app, _file(app)).reference
        for now in (
            datetime(2026, 3, 5, 7, 0, tzinfo=UTC),
            datetime(2026, 3, 10, 7, 0, tzinfo=UTC),
        ):
            _clock(app).set(now)
            sweep_tracker(app, now)
    finally:
        app.close()
        controller.stop()
    bodies = [_body(m) for m in handler.messages]
    assert len(bodies) == 3, [m["Subject"] for m in handler.messages]  # accepted, reminder, lapsed
    assert all(ref in b and "9. 3. 2026" in b for b in bodies)
    assert "zbývají 4 dny" in bodies[1]
    assert "37 odst. 4" in bodies[2]
