"""``podatelna users``: create clerk and administrator accounts, change roles, list accounts,
erase the personal data of ended accounts.

Staff accounts are created here, not on the portal (the portal only creates registered users).
The password is read from standard input (``--password-stdin``) or asked for without echo, never
from the command line, where other users of the machine could see it. Every act is audited with
the operating-system user as the actor (``cli:<user>``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from podatelna import accounts
from podatelna.accounts import Role
from podatelna.commands._common import open_app, print_json


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("users", help="accounts: create staff, change roles, list, erase")
    s = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    c = s.add_parser("create", help="create an account (e-mail counted as verified)")
    c.add_argument("email")
    c.add_argument("--role", choices=[r.value for r in Role], default=Role.CLERK.value)
    c.add_argument("--first-name", required=True)
    c.add_argument("--surname", required=True)
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    c.set_defaults(func=create)

    r = s.add_parser("role", help="change the role of an account")
    r.add_argument("email")
    r.add_argument("role", choices=[r.value for r in Role])
    r.set_defaults(func=role)

    ls = s.add_parser("list", help="list accounts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_users)

    e = s.add_parser(
        "erase-due",
        help="end accounts unused for five years; erase personal data of accounts ended long "
        "enough ago",
    )
    e.set_defaults(func=erase)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise accounts.InvalidAccountData("The two passwords differ.")
    return first


def create(args: argparse.Namespace) -> int:
    password = _password(args)
    app = open_app(args)
    with app.sessions() as session, session.begin():
        user = accounts.register(
            session,
            email=args.email,
            first_name=args.first_name,
            surname=args.surname,
            password=password,
            now=app.clock.now(),
            role=Role(args.role),
            verified=True,
            actor=_actor(),
        )
        print(f"created {user.email} ({user.role})")
    return 0


def role(args: argparse.Namespace) -> int:
    app = open_app(args)
    with app.sessions() as session, session.begin():
        user = accounts.set_role(
            session, args.email, args.role, actor=_actor(), now=app.clock.now()
        )
        print(f"{user.email} is now {user.role}")
    return 0


def list_users(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    app = open_app(args)
    with app.sessions() as session:
        rows = [
            {
                "email": u.email,
                "name": u.full_name,
                "role": u.role,
                "verified": u.email_verified_at is not None,
                "locked_until": u.locked_until,
                "deleted_at": u.deleted_at,
            }
            for u in session.execute(select(accounts.User).order_by(accounts.User.id)).scalars()
        ]
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        flags = "" if r["verified"] else " (not verified)"
        if r["deleted_at"]:
            flags += " (ended)"
        print(f"{r['email']:40} {r['role']:12} {r['name']}{flags}")
    return 0


def erase(args: argparse.Namespace) -> int:
    from podatelna.retention import sweep_accounts

    app = open_app(args)
    lapsed, n = sweep_accounts(app, app.clock.now())
    print(f"ended {lapsed} account(s) unused for five years")
    print(f"erased the personal data of {n} ended account(s)")
    return 0
