"""Retention of personal data in accounts, run by the periodic jobs and by ``podatelna users
erase-due``: accounts unused for five years end, and the personal data of ended accounts is
erased once their grace period (``web.erase_after_days``) is over. Filings stay in the journal,
as records law requires; only the account's own data goes. Both steps are idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from podatelna import accounts

if TYPE_CHECKING:
    from podatelna.app import App

log = logging.getLogger(__name__)


def sweep_accounts(app: App, now: datetime) -> tuple[int, int]:
    """End unused accounts and erase what is due; returns (ended, erased)."""

    with app.sessions() as session, session.begin():
        ended = accounts.lapse_unused(session, now=now, policy=app.account_policy)
        erased = accounts.erase_due(session, now=now)
    if ended or erased:
        log.info("accounts: %d ended as unused, %d erased", ended, erased)
    return ended, erased
