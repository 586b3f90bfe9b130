"""What the CLI and the HTTP API share: filing a submission and reading its state."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from filing_registry import Filing, NotFound, Submission
from intake import Acceptance, Incoming, Unavailable, accept
from podatelna.pipeline.stages import settle_at_intake

if TYPE_CHECKING:
    from podatelna.app import App

log = logging.getLogger(__name__)


def file_submission(app: App, incoming: Incoming) -> Acceptance:
    """Accept ``incoming`` (stored and recorded before this returns) and start the pipeline.

    Raises :class:`intake.Unavailable` (HTTP 503) when the object store, the database or the
    broker cannot take it: then nothing was acknowledged and the client may retry.
    """
    errors = app.storage_errors
    try:
        app.check_broker()
    except ConnectionError as exc:
        raise Unavailable(
            "The message broker is not reachable, so nothing was accepted; "
            f"try again later. ({exc})"
        ) from exc
    try:
        acceptance = accept(
            incoming,
            sink=app.store_raw,
            sessions=app.sessions,
            limits=app.intake_limits,
            now=app.clock.now(),
            settle=partial(settle_at_intake, app)
            if app.settings.broker.register_at_intake
            else None,
            send=app.pipeline.send_first,
        )
    except errors.StoreUnavailable as exc:
        raise Unavailable(
            "The object store is not reachable, so nothing was accepted; try again later."
        ) from exc
    if acceptance.sent:  # with the others recorded together (see intake.group_commit)
        return acceptance
    forms = {acceptance.submission_id: acceptance.form_bytes} if acceptance.form_bytes else {}
    try:
        app.pipeline.send_first(acceptance.outbox_ids, forms)
    except Exception:  # noqa: BLE001 - committed: the sweeper sends it later
        log.warning("could not send the first stage now; the sweeper will", exc_info=True)
    return acceptance


def describe(app: App, id_or_reference: str) -> dict[str, Any]:
    """The state of a submission (by id) or a filing (by reference number), as a dict."""
    with app.sessions() as session:
        sub = session.get(Submission, id_or_reference)
        if sub is None:
            filing = session.execute(
                select(Filing).where(Filing.reference == id_or_reference)
            ).scalar_one_or_none()
            if filing is None:
                raise NotFound(f"No submission or filing is known as {id_or_reference!r}.")
            sub = filing.submission
        filing = sub.filing
        out: dict[str, Any] = {
            "id": sub.id,
            "state": sub.state,
            "channel": sub.channel,
            "sender": sub.sender,
            "received_at": sub.received_at.isoformat(),
            "form_type": sub.form_type,
            "form_version": sub.form_version,
            "subject": sub.subject,
            "files": [
                {"name": f.name, "size": f.size, "media_type": f.media_type, "sha256": f.sha256}
                for f in sub.files
            ],
            "reasons": sub.rejection_reasons or [],
            "rejection_notice": sub.rejection_key,
            "reference": None,
        }
        if sub.verification:
            out["signatures"] = {
                "recognised": sub.verification.get("recognised_form"),
                "summary": sub.verification.get("summary_en"),
            }
        if filing is not None:
            out.update(
                reference=filing.reference,
                status=filing.status,
                tracker_state=filing.tracker_state,
                deadline=filing.deadline.isoformat() if filing.deadline else None,
                receipt=filing.receipt_key,
                receipt_id=filing.receipt_id,
                history=[
                    {"at": e.at.isoformat(), "state": e.state, "note": e.note}
                    for e in filing.history
                ],
            )
        return out
