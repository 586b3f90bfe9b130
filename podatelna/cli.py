"""The ``podatelna`` command line.

This is the one place that turns known errors into one-line messages (with the error's stable
code) and sends tracebacks to the log: a user sees what went wrong and what to do next, not a
stack trace.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from podatelna import commands
from podatelna.config import ConfigError, load_settings

log = logging.getLogger("podatelna")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podatelna",
        description="Electronic filing office: intake, validation, signatures, registry, receipts.",
    )
    parser.add_argument("--config", help="path of podatelna.toml (or set PODATELNA_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        add = getattr(module, "add_parser", None)
        if add is not None:
            add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        args.settings = load_settings(args.config)
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"podatelna: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into messages
        code = getattr(exc, "code", None)
        if code is None:
            log.exception("unexpected error")
            print(f"podatelna: unexpected error: {exc} (details in the log above)", file=sys.stderr)
            return 1
        log.debug("error details", exc_info=True)
        print(f"podatelna: {exc} [{code}]", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
