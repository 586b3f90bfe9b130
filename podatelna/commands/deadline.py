"""``podatelna deadline``: the last day of the five-day confirmation period, and why."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from filing_registry.deadlines import PRAGUE, RULE_SETS, compute_deadline

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InvalidFilingTimeError(Exception):
    """The ``--filed-at`` value is not an ISO 8601 time."""

    code = "deadline_invalid_time"


def parse_filing_time(value: str) -> datetime:
    """An aware datetime from ISO 8601; a time without an offset is Europe/Prague local time."""
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidFilingTimeError(
            f"--filed-at {value!r} is not an ISO 8601 time; write it like "
            "2026-04-30T23:30:00+02:00, 2026-04-30T21:30:00Z or 2026-04-30T23:30 (Prague time)."
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        at = at.replace(tzinfo=PRAGUE)
    return at


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "deadline",
        help="the last day for confirming an unsigned filing, and why",
        description=(
            "Compute the last day of the five-day period for confirming a filing sent without a "
            "recognised signature. Days are counted in Europe/Prague: the filing day is not "
            "counted, day 5 is the last, and a last day on a Saturday, Sunday or Czech public "
            "holiday moves to the next working day."
        ),
    )
    parser.add_argument(
        "--filed-at",
        required=True,
        metavar="ISO-8601-TIME",
        help=(
            "when the filing was received, e.g. 2026-04-30T23:30:00+02:00 or "
            "2026-04-30T21:30:00Z; a time WITHOUT an offset is read as Europe/Prague local time "
            "(a date alone means 00:00 Prague time)"
        ),
    )
    parser.add_argument(
        "--rules",
        choices=sorted(RULE_SETS),
        default="sr",
        help="sr: Administrative Procedure Code § 40 (default); dr: Tax Code § 33 and § 71(3)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"filed_on", "last_day", "rules", "reasons"} as JSON',
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deadline = compute_deadline(parse_filing_time(args.filed_at), args.rules)
    if args.json:
        data = deadline.to_dict()
        out = {key: data[key] for key in ("filed_on", "last_day", "rules", "reasons")}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    last = deadline.last_day
    print(f"Last day: {last.isoformat()} ({_WEEKDAYS[last.weekday()]})")
    print(deadline.summary())
    return 0
