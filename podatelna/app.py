"""The application context: settings plus the backends they choose, built lazily, once.

Nothing is created on import. The CLI, the HTTP app and the workers each build one
:class:`App` from the settings and hand it to what they run.
"""

from __future__ import annotations

import logging
import secrets
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from filing_registry import check_pattern, make_engine, make_sessionmaker, migrate
from intake import IntakeLimits
from podatelna import failpoints
from podatelna.clock import Clock, SystemClock
from podatelna.config import Settings

if TYPE_CHECKING:
    from podatelna.accounts import AccountPolicy
    from podatelna.pipeline.runner import Pipeline
    from podatelna.storage import ObjectStore

log = logging.getLogger(__name__)


class App:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        check_pattern(settings.office.reference_pattern)
        failpoints.arm(settings.failpoints)
        self._broker_ok_at = float("-inf")
        self._broker_lock = threading.Lock()
        #: until when (time.monotonic) intake leaves every submission to the pipeline, after
        #: registering one at intake failed (see podatelna.pipeline.stages.settle_at_intake)
        self.settle_paused_until = float("-inf")

    @cached_property
    def account_policy(self) -> AccountPolicy:
        """The rules for accounts (lockout, link and session lifetimes, erasure) from [web]."""
        from datetime import timedelta

        from podatelna.accounts import AccountPolicy

        web = self.settings.web
        return AccountPolicy(
            lockout=timedelta(minutes=web.lockout_minutes),
            verify_link_ttl=timedelta(hours=web.verify_link_hours),
            reset_link_ttl=timedelta(minutes=web.reset_link_minutes),
            session_ttl=timedelta(hours=web.session_hours),
            api_token_ttl=timedelta(days=web.api_token_days),
            erase_after=timedelta(days=web.erase_after_days),
        )

    # -- database ----------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        url = self.settings.database_url
        if url.startswith("sqlite"):
            self.settings.data_path.mkdir(parents=True, exist_ok=True)
            log.info("database: SQLite file %s (embedded default, one machine only)", url[10:])
        db = self.settings.database
        return make_engine(url, echo=db.echo, pool_size=db.pool_size)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    def migrate(self) -> None:
        migrate(self.engine)

    # -- object store ------------------------------------------------------------------------

    @cached_property
    def store(self) -> ObjectStore:
        from podatelna.storage import build_store

        store = build_store(self.settings)
        return store

    def store_raw(self, chunks: Any, *, max_bytes: int, content_type: str) -> Any:
        """The blob sink intake is handed: content-addressed puts into the submissions bucket."""
        return self.store.put_content_addressed(
            "submissions", chunks, max_bytes=max_bytes, content_type=content_type
        )

    @cached_property
    def storage_errors(self) -> Any:
        from podatelna.storage import errors

        return errors

    def ensure_buckets(self) -> None:
        self.store.ensure_buckets()

    # -- signatures, seals, timestamps, notifications -------------------------------------------

    @cached_property
    def _seal_wiring(self) -> Any:
        from podatelna.sealing import build_wiring

        return build_wiring(self.settings, clock=self.clock)

    @property
    def sealer(self) -> Any:
        return self._seal_wiring.sealer

    @property
    def timestamper(self) -> Any:
        return self._seal_wiring.timestamper

    @cached_property
    def trust(self) -> Any:
        from signing import TrustContext, TrustSettings, load_trust

        settings = TrustSettings.from_config(self.settings.trust, self.settings.data_dir)
        if not settings.has_lists:
            from pyhanko.sign.validation.qualified.tsp import TSPRegistry

            log.warning(
                "no trusted lists configured: no signature can be recognised, every filing "
                "will need confirmation (set trust.trusted_lists and trust.tl_signers)"
            )
            return TrustContext(registry=TSPRegistry(), lists=())
        return load_trust(settings)

    def verify_files(self, files: list[tuple[str, bytes]], *, at: Any) -> Any:
        from signing import verify_submission_files

        return verify_submission_files(files, self.trust, at)

    @cached_property
    def notifier(self) -> Any:
        from podatelna.notifications import build_notifier

        return build_notifier(self.settings.notifications, self.settings.data_dir, clock=self.clock)

    def notice_context(self, reference: str, submission_id: str) -> dict[str, Any]:
        office = self.settings.office
        return {
            "reference": reference,
            "submission_id": submission_id,
            "office_name": office.name,
            "office_address": office.address,
            "portal_url": office.portal_url,
        }

    def notify(self, kind: str, to: str, context: dict[str, Any], *, key: str) -> None:
        from podatelna.notifications import render_notice

        self.notifier.send(render_notice(kind, to=to, context=context, idempotency_key=key))

    # -- limits ------------------------------------------------------------------------------

    @cached_property
    def intake_limits(self) -> IntakeLimits:
        lim = self.settings.limits
        return IntakeLimits(
            max_total_bytes=lim.max_total_bytes,
            max_files=lim.max_files,
            max_file_bytes=lim.max_file_bytes,
            max_form_bytes=lim.max_form_bytes,
        )

    # -- pipeline ----------------------------------------------------------------------------

    @cached_property
    def pipeline(self) -> Pipeline:
        from podatelna.pipeline.runner import Pipeline

        return Pipeline(self)

    def check_broker(self, max_age: float = 1.0) -> None:
        """Raise ``ConnectionError`` when the broker is unreachable; a success is trusted for
        ``max_age`` seconds, so intake does not open a broker connection per request."""
        import time

        from podatelna.pipeline.broker import ping_broker

        if time.monotonic() - self._broker_ok_at < max_age:
            return
        # one thread pings for all: the others wait for its answer instead of each opening a
        # connection of their own once the cached answer is stale
        with self._broker_lock:
            now = time.monotonic()
            if now - self._broker_ok_at < max_age:
                return
            ping_broker(self.settings.broker)
            self._broker_ok_at = now

    # -- secrets -----------------------------------------------------------------------------

    @cached_property
    def secret_key(self) -> bytes:
        """Secret for signed download tokens and sessions (generated once on embedded defaults)."""
        if self.settings.web.secret_key:
            return self.settings.web.secret_key.encode()
        path = self.settings.data_path / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(f"{path}.tmp")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            tmp.replace(path)
            log.warning("generated a web secret key in %s (embedded default)", path)
        return path.read_text().strip().encode()

    def close(self) -> None:
        if "pipeline" in self.__dict__:
            self.pipeline.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
