"""Wiring of the stages to dramatiq: actors, dispatch of outbox messages, workers, sweeper.

Stage messages carry a submission id, or several (the messages of one stage sent together, up
to :data:`BATCH`; the worker runs them one after another); a *validate* message from intake
also carries the small forms' bytes, checked against their recorded SHA-256 before use. A stage
commits its result together with the next stage's outbox row; :meth:`Pipeline.dispatch` then
sends the message, and the consuming stage marks the row delivered. A message lost between
commit and send stays unmarked in the outbox and the sweeper sends it; a submission that sits
in a non-final state past the lease is sent again. Stages are idempotent, so duplicates are
harmless.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import dramatiq
from sqlalchemy import select, update

from filing_registry import OutboxMessage, Submission, SubmissionState
from podatelna import failpoints
from podatelna.pipeline.broker import build_broker
from podatelna.pipeline.stages import RUNNERS, STAGE_FOR_STATE, Next, validate

if TYPE_CHECKING:
    from podatelna.app import App

log = logging.getLogger(__name__)

#: the most submissions one stage message carries. Their worker thread runs them one after
#: another, so a batch is kept small: a burst still spreads over the worker threads, while
#: the submissions recorded together at intake (a few, see intake.group_commit) go in one
#: broker round trip.
BATCH = 4


class Pipeline:
    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings.broker
        self.broker = build_broker(self.settings)
        self.actors: dict[str, dramatiq.Actor] = {}
        for stage, fn in RUNNERS.items():
            self.actors[stage] = self._declare(stage, fn)
        self._worker: dramatiq.Worker | None = None
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()

    def _declare(self, stage: str, fn: object) -> dramatiq.Actor:
        def run(
            submission_id: str, form: str | None = None, more: list[list[str]] | None = None
        ) -> None:
            """Run the stage for ``submission_id`` (``form``: its form's bytes, base64) and for
            each ``[id, form or ""]`` of ``more``, one after another. If one fails, the others
            still run and send their next messages; then the first failure is raised, so the
            message is retried (the stage is idempotent: those done already do nothing again)."""
            batch = [(submission_id, form), *((m[0], m[1] or None) for m in more or ())]
            following: list[Next] = []
            failure: Exception | None = None
            for sid, hint in batch:
                try:
                    if hint is not None and stage == "validate":
                        following += validate(self.app, sid, form=base64.b64decode(hint))
                    else:
                        following += RUNNERS[stage](self.app, sid)
                except Exception as exc:
                    if len(batch) == 1:
                        raise
                    log.warning(
                        "stage %s failed for %s (batch of %d)",
                        stage,
                        sid,
                        len(batch),
                        exc_info=True,
                    )
                    failure = failure or exc
            if following:
                self.dispatch(following)
            if failure is not None:
                raise failure

        run.__name__ = f"stage_{stage}"
        return dramatiq.Actor(
            run,
            broker=self.broker,
            actor_name=f"{self.settings.namespace}.{stage}",
            queue_name=f"{self.settings.namespace}_{stage}",
            priority=0,
            options={"max_retries": 20, "min_backoff": 200, "max_backoff": 30_000},
        )

    # -- sending -----------------------------------------------------------------------------

    def dispatch(
        self, messages: Sequence[Next], *, forms: Mapping[str, bytes] | None = None
    ) -> int:
        """Send committed outbox messages ``(id, stage, submission id)`` to the broker, those
        of one stage together, up to :data:`BATCH` per broker message.

        The row is marked delivered by the stage that consumes it (in its own transaction), so
        sending costs no database write; a row still unmarked after the lease is sent again by
        the sweeper. ``forms``: forms' bytes as intake received them, by submission id, sent
        along with a *validate* message so that the stage need not read them back from the
        object store (it uses them only if their SHA-256 is the one recorded for the form).
        Returns the number of broker messages sent.
        """
        by_stage: dict[str, list[tuple[str, str]]] = {}
        for _id, stage, submission_id in messages:
            form = forms.get(submission_id) if forms and stage == "validate" else None
            hint = base64.b64encode(form).decode() if form is not None else ""
            by_stage.setdefault(stage, []).append((submission_id, hint))
        sent = 0
        for stage, items in by_stage.items():
            for start in range(0, len(items), BATCH):
                (first, hint), *more = items[start : start + BATCH]
                kwargs: dict[str, Any] = {}
                if hint:
                    kwargs["form"] = hint
                if more:
                    kwargs["more"] = [list(m) for m in more]
                self.actors[stage].send(first, **kwargs)
                sent += 1
        return sent

    def send_first(self, messages: Sequence[Next], forms: Mapping[str, bytes]) -> None:
        """Send the first messages of submissions intake has just recorded (its ``send``)."""
        failpoints.hit("intake:before_dispatch")  # committed, the first messages not yet sent
        self.dispatch(messages, forms=forms)

    def run_inline(self, submission_id: str, stage: str) -> list[Next]:
        """Run one stage in this thread (tests, benchmarks); returns the messages it wrote."""
        return RUNNERS[stage](self.app, submission_id)

    # -- sweeping ----------------------------------------------------------------------------

    def sweep(self) -> dict[str, int]:
        """Re-send messages not consumed within the lease, and work for stuck submissions.

        Rows a stage holds locked (it is working on them right now) are skipped, never waited
        for: a stage locks its submission, then its outbox rows, and a sweeper waiting in the
        other order would deadlock with it.
        """
        now = self.app.clock.now()
        lease = now - timedelta(seconds=self.settings.lease_seconds)
        again: list[Next] = []
        with self.app.sessions() as session, session.begin():
            unsent = (
                session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < lease)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            for row in unsent:  # lost between commit and send, or lost by the broker
                row.created_at = now
                again.append((row.id, row.stage, row.submission_id))
            pending = {(m[2], m[1]) for m in again}
            stuck = session.execute(
                select(Submission.id, Submission.state, Submission.rejection_key)
                .where(
                    Submission.updated_at < lease,
                    Submission.state != SubmissionState.COMPLETED.value,
                )
                .with_for_update(skip_locked=True)
            ).all()
            resent = 0
            for sid, state, rejection_key in stuck:
                if state == SubmissionState.REJECTED.value:
                    if rejection_key:
                        continue
                    stage = "reject_notice"
                else:
                    stage = STAGE_FOR_STATE[state]
                session.execute(
                    update(Submission).where(Submission.id == sid).values(updated_at=now)
                )
                if (sid, stage) in pending:
                    continue
                msg = OutboxMessage(submission_id=sid, stage=stage, created_at=now)
                session.add(msg)
                session.flush()
                again.append((msg.id, stage, sid))
                resent += 1
        self.dispatch(again)
        relayed = len(again) - resent
        if again:
            log.info("sweeper: re-sent %d unconsumed message(s), %d stuck", relayed, resent)
        return {"relayed": relayed, "resent": resent}

    # -- workers -----------------------------------------------------------------------------

    def start_workers(
        self, threads: int | None = None, *, sweeper: bool = True, stages: tuple[str, ...] = ()
    ) -> None:
        """Start dramatiq workers in this process (for ``stages`` only, when given)."""
        queues = {self.actors[s].queue_name for s in stages} if stages else None
        self._worker = dramatiq.Worker(
            self.broker,
            queues=queues,
            worker_threads=threads or self.settings.worker_threads,
            worker_timeout=100,
        )
        self._worker.start()
        if sweeper:
            self._stop.clear()
            self._sweeper = threading.Thread(target=self._sweep_loop, name="sweeper", daemon=True)
            self._sweeper.start()
            from podatelna.tracker_jobs import run_periodically

            threading.Thread(
                target=run_periodically, args=(self.app, self._stop), name="tracker", daemon=True
            ).start()

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.settings.sweep_interval_seconds):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - the loop must survive a failing backend
                log.exception("sweeper round failed; trying again later")

    def stop_workers(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def close(self) -> None:
        self.stop_workers()
        self.broker.close()


def wait_for(
    app: App,
    submission_id: str,
    *,
    timeout: float = 60.0,
    states: tuple[str, ...] = ("completed", "rejected"),
) -> str:
    """Poll until the submission reaches one of ``states``; returns the state reached."""
    deadline = time.monotonic() + timeout
    while True:
        with app.sessions() as session:
            sub = session.get(Submission, submission_id)
            state = sub.state if sub else "missing"
            done = state in states and not (
                sub is not None and state == "rejected" and not sub.rejection_key
            )
        if done or time.monotonic() > deadline:
            return state
        time.sleep(0.05)
