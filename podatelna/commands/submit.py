"""``podatelna submit`` and ``podatelna status``."""

from __future__ import annotations

import argparse
from pathlib import Path

from intake import Incoming, IncomingFile, Sender
from podatelna.commands._common import open_app, print_json
from podatelna.pipeline.runner import wait_for
from podatelna.service import describe, file_submission

WAIT_STATES = ("completed", "rejected", "receipted")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("submit", help="file a form (XML) with optional attachments")
    p.add_argument("form", type=Path, help="the form, an XML file")
    p.add_argument("--attach", type=Path, action="append", default=[], help="an attachment")
    p.add_argument("--sender", default="cli@localhost", help="sender's e-mail")
    p.add_argument("--sender-name", default="", help="sender's name")
    p.add_argument("--idempotency-key", help="the same key returns the same submission")
    p.add_argument("--wait", action="store_true", help="wait for a final or confirmation state")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (with --wait)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_submit)

    s = sub.add_parser("status", help="state of a submission or filing")
    s.add_argument("id_or_reference")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_status)


def _print(info: dict, as_json: bool) -> None:  # type: ignore[type-arg]
    if as_json:
        print_json(info)
        return
    print(f"submission {info['id']}: {info['state']}")
    if info.get("reference"):
        print(f"reference number: {info['reference']}")
    if info.get("deadline"):
        print(f"confirmation needed by: {info['deadline']} ({info.get('tracker_state')})")
    if info.get("receipt"):
        print(f"receipt: {info['receipt']}")
    for r in info.get("reasons") or []:
        where = f" (line {r['line']}, column {r.get('column')})" if r.get("line") else ""
        print(f"  rejected: {r.get('message')}{where}")


def run_submit(args: argparse.Namespace) -> int:
    app = open_app(args)
    app.ensure_buckets()
    try:
        if args.wait:
            app.pipeline.start_workers(sweeper=True)
        files = [args.form, *args.attach]
        for f in files:
            if not f.is_file():
                print(f"podatelna: {f} does not exist or is not a file")
                return 2
        handles = [f.open("rb") for f in files]
        try:
            incoming = Incoming(
                channel="cli",
                sender=Sender(args.sender, args.sender_name),
                form=IncomingFile(args.form.name, handles[0], role="form"),
                attachments=[
                    IncomingFile(
                        f.name, h, role="signature" if f.suffix == ".p7s" else "attachment"
                    )
                    for f, h in zip(args.attach, handles[1:], strict=True)
                ],
                idempotency_key=args.idempotency_key,
            )
            acc = file_submission(app, incoming)
        finally:
            for h in handles:
                h.close()
        if args.wait:
            wait_for(app, acc.submission_id, timeout=args.timeout, states=WAIT_STATES)
        _print(describe(app, acc.submission_id), args.json)
        return 0
    finally:
        app.close()


def run_status(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        _print(describe(app, args.id_or_reference), args.json)
        return 0
    finally:
        app.close()
