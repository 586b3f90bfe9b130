"""``podatelna confirm`` and ``podatelna tracker sweep|list``: the five-day confirmation tracker."""

from __future__ import annotations

import argparse
import getpass
import threading
from datetime import date, datetime
from typing import Any

from podatelna.clock import FrozenClock
from podatelna.commands._common import open_app, print_json
from podatelna.commands.deadline import parse_filing_time
from podatelna.tracker_jobs import awaiting, record_confirmation, run_periodically, sweep_tracker


def add_parser(sub: Any) -> None:
    c = sub.add_parser(
        "confirm",
        help="record the confirmation of a filing sent without a recognised signature",
        description=(
            "Record that the sender confirmed an unsigned filing: a hand-signed copy posted or "
            "received on a day, or a later filing (signed, or from a data box, with the same "
            "content) that repeats it. A copy posted on the last day is in time even if it "
            "arrives later."
        ),
    )
    c.add_argument("reference", metavar="REFERENCE", help="reference number of the filing")
    how = c.add_mutually_exclusive_group(required=True)
    how.add_argument("--posted-on", type=date.fromisoformat, metavar="DATE", help="YYYY-MM-DD")
    how.add_argument("--received-on", type=date.fromisoformat, metavar="DATE", help="YYYY-MM-DD")
    how.add_argument("--by-filing", metavar="REFERENCE", help="the re-filing that confirms it")
    c.add_argument("--note", default="", metavar="TEXT")
    c.add_argument("--actor", default=None, help="who records it (default: clerk:<login name>)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=run_confirm)

    t = sub.add_parser("tracker", help="filings awaiting confirmation; the lapse/reminder sweep")
    tsub = t.add_subparsers(dest="tracker_command", metavar="ACTION", required=True)
    s = tsub.add_parser("sweep", help="mark lapsed filings and send today's reminders (once)")
    s.add_argument(
        "--now", type=parse_filing_time, metavar="ISO-8601-TIME", help="sweep as of this time"
    )
    s.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="keep sweeping at this interval until interrupted (a scheduler; any number may run)",
    )
    s.set_defaults(func=run_sweep)
    ls = tsub.add_parser("list", help="filings awaiting confirmation, by last day")
    ls.add_argument("--due-within", type=int, metavar="DAYS", help="only those due within DAYS")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)


def run_confirm(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        if args.posted_on:
            how, on = "posted", args.posted_on
        elif args.received_on:
            how, on = "received", args.received_on
        else:
            how, on = None, None
        row = record_confirmation(
            app,
            args.reference,
            how=how,
            on=on,
            by_reference=args.by_filing,
            note=args.note,
            actor=args.actor or f"clerk:{getpass.getuser()}",
        )
    finally:
        app.close()
    if args.json:
        print_json(row)
    else:
        conf = row["confirmation"] or {}
        print(f"{row['reference']}: confirmed ({conf.get('how')}, {conf.get('on')})")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    app = open_app(args)
    if args.every:
        if args.now:
            raise SystemExit("podatelna: --now and --every cannot be combined")
        stop = threading.Event()
        try:
            run_periodically(app, stop, interval=args.every)
        except KeyboardInterrupt:
            stop.set()
        finally:
            app.close()
        return 0
    try:
        now: datetime = args.now or app.clock.now()
        if args.now:
            app.clock = FrozenClock(now)
        counts = sweep_tracker(app, now)
    finally:
        app.close()
    print_json({"now": now.isoformat(), **counts})
    return 0


def run_list(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        rows = awaiting(app, due_within=args.due_within)
    finally:
        app.close()
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No filing is awaiting confirmation.")
        return 0
    for r in rows:
        left = r["days_left"]
        when = "overdue" if left < 0 else "last day today" if left == 0 else f"{left} days left"
        print(f"{r['deadline']}  {when:>15}  {r['reference']:<20}  {r['sender']}  {r['subject']}")
    return 0
