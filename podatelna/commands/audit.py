"""``podatelna audit verify``: recompute the audit log's hash chain and report the first break."""

from __future__ import annotations

import argparse
import json
from typing import Any

from filing_registry import verify_chain
from podatelna.app import App


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="check the tamper-evident audit log",
        description="Commands on the audit log (every electronic act, hash-chained).",
    )
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify",
        help="recompute the hash chain and report the first broken entry",
        description=(
            "Recompute the hash of every audit entry from the first one on and compare it with "
            "the stored hash and with the next entry's link. Exit status 0 when the chain is "
            "intact, 1 when an entry was changed, removed or added out of order."
        ),
    )
    verify.add_argument(
        "--json",
        action="store_true",
        help='print {"ok", "checked", "broken_at", "reason"} as JSON',
    )
    verify.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    app = App(args.settings)
    try:
        app.migrate()
        with app.sessions() as session:
            report = verify_chain(session)
    finally:
        app.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(report.summary())
    return 0 if report.ok else 1
