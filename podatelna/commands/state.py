"""``podatelna state``: the system state (in operation / limited / out of operation) and the load.

Exit status 0 in operation, 1 when limited, 2 when out of operation, so that a shell check or a
cron job can act on it.
"""

from __future__ import annotations

import argparse

from podatelna.app import App
from podatelna.commands._common import print_json
from podatelna.status import LEVEL_TEXT, system_state

EXIT_CODES = {"in_operation": 0, "limited": 1, "out_of_operation": 2}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "state", help="system state: live checks of the backends and the load (queue depths)"
    )
    p.add_argument("--json", action="store_true", help="the same JSON as GET /api/v1/status")
    p.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for each check (default 5)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # no migration here: the state must be readable when the database is down
    app = App(args.settings)
    try:
        state = system_state(app, timeout=args.timeout, max_age=0)
        if args.json:
            print_json(state.to_json())
        else:
            cs, en = LEVEL_TEXT[state.level]
            print(f"{en} ({cs}) at {state.checked_at.isoformat(timespec='seconds')}")
            for c in state.checks:
                mark = "ok  " if c.ok else "DOWN"
                print(f"  {mark} {c.name:<13} {c.latency_ms:8.1f} ms  {c.detail}")
            load = state.load
            if load.counted:
                print(
                    f"  load: {load.in_progress} in progress, {load.awaiting_timestamp} awaiting "
                    f"a timestamp, {load.awaiting_receipt} awaiting a receipt"
                )
            else:
                print("  load: not counted (the database did not answer)")
            if load.queues:
                depths = ", ".join(f"{k} {v}" for k, v in load.queues.items())
                print(f"  queues ({load.queues_source}): {depths}")
        return EXIT_CODES[state.level]
    finally:
        app.close()
