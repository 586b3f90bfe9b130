"""Issuing sealed documents exactly once: render, seal and store under a stable key.

Shared by the pipeline's receipt and rejection stages and by copies on demand. A document
already stored under its key (by an earlier run that died before recording it) is adopted,
never issued a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import receipts
from podatelna import failpoints

if TYPE_CHECKING:
    from podatelna.app import App

log = logging.getLogger(__name__)


def authority(app: App) -> receipts.Authority:
    office = app.settings.office
    return receipts.Authority(office.name, office.address, office.code)


def sender_of(sender: str, name: str, channel: str) -> receipts.Sender:
    if channel == "databox":
        return receipts.Sender(name or sender, box_id=sender)
    return receipts.Sender(name or sender, email=sender)


def store_once(
    app: App,
    key: str,
    make: Callable[[], bytes],
    *,
    content_type: str,
    retain_until: datetime | None = None,
    failpoint: str | None = None,
) -> bytes:
    """The document stored under ``key`` in the receipts bucket, made and stored if absent.

    Stored objects are never overwritten: when another run stored it first, its copy is the
    one kept and returned, so every caller hands out the same bytes.
    """
    if app.store.exists("receipts", key):
        return app.store.get("receipts", key)
    data = make()
    if failpoint:
        failpoints.hit(failpoint)
    try:
        app.store.put("receipts", key, data, content_type=content_type, retain_until=retain_until)
    except app.storage_errors.ObjectExists:
        log.info("%s was stored by an earlier run: adopting it", key)
        return app.store.get("receipts", key)
    return data


def issue_once(
    app: App,
    key: str,
    render: Callable[[], bytes],
    *,
    retain_until: datetime | None = None,
    failpoint: str | None = None,
) -> bytes:
    """The sealed document stored under ``key`` in the receipts bucket, issuing it if absent."""
    return store_once(
        app,
        key,
        lambda: app.sealer.seal(render(), at=app.clock.now()),
        content_type="application/pdf",
        retain_until=retain_until,
        failpoint=failpoint,
    )
