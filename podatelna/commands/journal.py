"""``podatelna journal``: the filing journal for a date range."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from filing_registry import journal_entries
from podatelna.commands._common import open_app, print_json


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("journal", help="the filing journal (podací deník)")
    p.add_argument("--from", dest="date_from", type=date.fromisoformat, help="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=date.fromisoformat, help="YYYY-MM-DD, inclusive")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def day_bounds(d_from: date | None, d_to: date | None, tz: ZoneInfo) -> tuple:  # type: ignore[type-arg]
    start = datetime.combine(d_from, time(), tz) if d_from else None
    end = datetime.combine(d_to + timedelta(days=1), time(), tz) if d_to else None
    return start, end


def run(args: argparse.Namespace) -> int:
    app = open_app(args)
    tz = ZoneInfo(args.settings.office.timezone)
    start, end = day_bounds(args.date_from, args.date_to, tz)
    try:
        with app.sessions() as session:
            rows: list[dict[str, Any]] = [
                {
                    "reference": f.reference,
                    "received_at": f.received_at.astimezone(tz).isoformat(),
                    "channel": f.channel,
                    "sender": f.sender,
                    "form_type": f.form_type,
                    "form_version": f.form_version,
                    "subject": f.subject,
                    "files": [
                        {
                            "name": x.name,
                            "size": x.size,
                            "media_type": x.media_type,
                            "sha256": x.sha256,
                        }
                        for x in f.submission.files
                    ],
                    "recognised_signature": f.recognised_signature,
                    "tracker_state": f.tracker_state,
                    "deadline": f.deadline.isoformat() if f.deadline else None,
                    "status": f.status,
                }
                for f in journal_entries(session, start=start, end=end)
            ]
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                print(
                    f"{r['reference']:<18} {r['received_at'][:19]}  {r['channel']:<8} "
                    f"{r['form_type']:<18} {r['tracker_state']:<22} {r['subject']}"
                )
            print(f"{len(rows)} filing(s)")
        return 0
    finally:
        app.close()
