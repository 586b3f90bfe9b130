"""``podatelna databox send|token``: deliver a data-box message; manage sending-system tokens."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from intake.databox import create_token, list_tokens, revoke_token
from podatelna import databox
from podatelna.commands._common import open_app, print_json
from podatelna.pipeline.runner import wait_for

#: where ``databox send`` takes the token from when ``--token`` is not given
TOKEN_ENV = "DATABOX_TOKEN"  # noqa: S105 - the name of a variable, not a secret


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("databox", help="data-box messages: send one, manage sending-system tokens")
    cmds = p.add_subparsers(dest="databox_command", metavar="SUBCOMMAND", required=True)

    s = cmds.add_parser("send", help="deliver a message (envelope XML or CMS container)")
    s.add_argument("file", type=Path, help="the envelope XML, or the envelope in a CMS container")
    s.add_argument("--token", help=f"the sending system's token (default: ${TOKEN_ENV})")
    s.add_argument("--wait", action="store_true", help="wait until delivered or rejected")
    s.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (with --wait)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=run_send)

    t = cmds.add_parser("token", help="API tokens of sending systems")
    tcmds = t.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    c = tcmds.add_parser("create", help="create a token (printed once, on the last line)")
    c.add_argument(
        "--sender-box", action="append", required=True, help="a box id it may send for (repeat)"
    )
    c.add_argument("--name", default="", help="who holds it (e.g. the gateway's name)")
    c.set_defaults(func=run_token_create)
    r = tcmds.add_parser("revoke", help="revoke a token by its id")
    r.add_argument("token_id")
    r.set_defaults(func=run_token_revoke)
    ls = tcmds.add_parser("list", help="list tokens (never their secrets)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_token_list)


def _print_message(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    print(f"message {info['message_id']} (id {info['id']}): {info['state']}")
    if info.get("reference"):
        print(f"reference number: {info['reference']}")
    for r in info.get("reasons") or []:
        print(f"  rejected: {r.get('message')}")
    if info.get("delivery_receipt_url"):
        print(f"delivery receipt: {info['delivery_receipt_url']}")


def run_send(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"podatelna: {args.file} does not exist or is not a file", file=sys.stderr)
        return 2
    token = args.token or os.environ.get(TOKEN_ENV)
    app = open_app(args)
    app.ensure_buckets()
    try:
        if args.wait:
            app.pipeline.start_workers(sweeper=True)
        got = databox.receive(app, args.file.read_bytes(), f"Bearer {token}" if token else None)
        msg = got.message
        if args.wait and msg.submission_id and not got.rejected:
            wait_for(app, msg.submission_id, timeout=args.timeout)
        from intake.databox import messages

        fresh = messages.get(app.sessions, msg.id) or msg
        _print_message(databox.describe(fresh), args.json)
        return 1 if fresh.state == "rejected" else 0
    finally:
        app.close()


def run_token_create(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        try:
            token, info = create_token(
                app.sessions, sender_boxes=args.sender_box, name=args.name, now=app.clock.now()
            )
        except ValueError as exc:
            print(f"podatelna: {exc}", file=sys.stderr)
            return 2
        print(f"token {info.id} for the boxes {', '.join(info.sender_boxes)}")
        print("store it now, it is not shown again:")
        print(token)
        return 0
    finally:
        app.close()


def run_token_revoke(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        info = revoke_token(app.sessions, args.token_id, now=app.clock.now())
        assert info.revoked_at is not None
        print(f"token {info.id} revoked at {info.revoked_at.isoformat()}")
        return 0
    finally:
        app.close()


def run_token_list(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        tokens = [t.to_dict() for t in list_tokens(app.sessions)]
        if args.json:
            print_json(tokens)
            return 0
        for t in tokens:
            state = f"revoked {t['revoked_at']}" if t["revoked"] else "active"
            print(f"{t['id']}  {','.join(t['sender_boxes'])}  {state}  {t['name']}")
        return 0
    finally:
        app.close()
