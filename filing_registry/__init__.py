"""The registry: submissions, the filing journal with reference numbers, the audit log.

Public API; everything else in the package is private.
"""

from filing_registry.audit import ChainReport, entries_about, verify_chain
from filing_registry.audit import append as audit
from filing_registry.db import Base, make_engine, make_sessionmaker, transaction, utcnow
from filing_registry.deadlines import (
    Deadline,
    DeadlineError,
    compute_deadline,
    confirmation_in_time,
    days_left,
    is_working_day,
)
from filing_registry.errors import (
    AlreadyRegistered,
    AuditChainBroken,
    BadReferencePattern,
    InvalidTransition,
    NotFound,
    RegistryError,
)
from filing_registry.journal import Registration, add_event, get_filing, journal_entries, register
from filing_registry.migrate import migrate
from filing_registry.models import (
    AuditEntry,
    Channel,
    Filing,
    OutboxMessage,
    StatusEvent,
    Submission,
    SubmissionFile,
    SubmissionState,
    TrackerState,
)
from filing_registry.numbering import check_pattern, filing_year, format_reference, next_number
from filing_registry.tracker import (
    ConfirmationError,
    ConfirmationLate,
    LinkRefused,
    LinkResult,
    NotAwaitingConfirmation,
    confirm,
    correct,
    lapse_due,
    link_refiling,
    mark_reminded,
    reminders_due,
)

__all__ = [
    "AlreadyRegistered",
    "AuditChainBroken",
    "AuditEntry",
    "Base",
    "BadReferencePattern",
    "Channel",
    "ChainReport",
    "ConfirmationError",
    "ConfirmationLate",
    "LinkRefused",
    "LinkResult",
    "NotAwaitingConfirmation",
    "confirm",
    "correct",
    "lapse_due",
    "link_refiling",
    "mark_reminded",
    "reminders_due",
    "Deadline",
    "DeadlineError",
    "Filing",
    "InvalidTransition",
    "NotFound",
    "OutboxMessage",
    "Registration",
    "RegistryError",
    "StatusEvent",
    "Submission",
    "SubmissionFile",
    "SubmissionState",
    "TrackerState",
    "add_event",
    "audit",
    "check_pattern",
    "compute_deadline",
    "confirmation_in_time",
    "days_left",
    "entries_about",
    "filing_year",
    "format_reference",
    "get_filing",
    "is_working_day",
    "journal_entries",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "next_number",
    "register",
    "transaction",
    "utcnow",
    "verify_chain",
]
