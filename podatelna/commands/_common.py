"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from podatelna.app import App


def open_app(args: Any) -> App:
    app = App(args.settings)
    app.migrate()
    return app


def print_json(obj: Any) -> None:
    def default(o: Any) -> Any:
        if isinstance(o, datetime | date):
            return o.isoformat()
        raise TypeError(f"cannot serialise {type(o).__name__}")

    print(json.dumps(obj, ensure_ascii=False, indent=2, default=default))
