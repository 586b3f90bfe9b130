"""Reference numbers (čísla jednací): one gapless sequence per office and calendar year.

The year is the calendar year in Europe/Prague of the filing's received time. The number is
taken by incrementing the counter row inside the transaction that writes the journal entry: the
row stays locked until that transaction ends (PostgreSQL row lock; SQLite's database write lock),
so two registrations never see the same number, and a registration that rolls back gives its
number back. Nothing is ever renumbered.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from filing_registry.db import Executor, dialect_of
from filing_registry.errors import BadReferencePattern
from filing_registry.models import ReferenceCounter

PRAGUE = ZoneInfo("Europe/Prague")
DEFAULT_PATTERN = "{office}/{seq:05d}/{year}"
_COUNTERS: Table = ReferenceCounter.__table__  # type: ignore[assignment]


def filing_year(received_at: datetime, tz: ZoneInfo = PRAGUE) -> int:
    """The calendar year (in ``tz``) that a filing received at ``received_at`` belongs to."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    return received_at.astimezone(tz).year


def format_reference(pattern: str, office: str, seq: int, year: int) -> str:
    try:
        return pattern.format(office=office, seq=seq, year=year)
    except (KeyError, IndexError, ValueError) as exc:
        raise BadReferencePattern(
            f"The reference number pattern {pattern!r} is invalid ({exc}); it may use "
            "{office}, {seq} (e.g. {seq:05d}) and {year}."
        ) from exc


def check_pattern(pattern: str) -> None:
    """Refuse a pattern that could make two numbers equal (it must use {seq} and {year})."""
    if "{seq" not in pattern or "{year" not in pattern:
        raise BadReferencePattern(
            f"The reference number pattern {pattern!r} must contain {{seq}} and {{year}}, "
            "or two filings could get the same number."
        )
    format_reference(pattern, "X", 1, 2000)


#: insert the counter at ``count`` or add ``count`` to it, for SQLite and PostgreSQL (indexed by
#: "is it PostgreSQL"); built once, the values come with each execution
_TAKE_NUMBERS = tuple(
    ins(_COUNTERS)
    .values(office=bindparam("office"), year=bindparam("year"), last_seq=bindparam("count"))
    .on_conflict_do_update(
        index_elements=["office", "year"],
        set_={"last_seq": _COUNTERS.c.last_seq + bindparam("count")},
    )
    .returning(_COUNTERS.c.last_seq)
    for ins in (sqlite_insert, pg_insert)
)


def next_number(executor: Executor, office: str, year: int) -> int:
    """Take the next number of ``office``/``year`` in the caller's transaction.

    One statement: insert the counter at 1, or (it exists) increment it; either way the row is
    locked until the transaction ends. Take the number late in the transaction, so the lock
    is held briefly.
    """
    return take_numbers(executor, office, year, 1)


def take_numbers(executor: Executor, office: str, year: int, count: int) -> int:
    """Take the next ``count`` numbers of ``office``/``year`` in the caller's transaction (as
    :func:`next_number`, in one statement); returns the last of them: they are
    ``last - count + 1 … last``, and the caller must use every one in this transaction."""
    if count < 1:
        raise ValueError(f"cannot take {count} reference numbers")
    stmt = _TAKE_NUMBERS[dialect_of(executor) == "postgresql"]
    seq = executor.execute(stmt, {"office": office, "year": year, "count": count}).scalar_one()
    return int(seq)


def last_number(session: Executor, office: str, year: int) -> int:
    value = session.execute(
        select(ReferenceCounter.last_seq).where(
            ReferenceCounter.office == office, ReferenceCounter.year == year
        )
    ).scalar_one_or_none()
    return int(value or 0)
