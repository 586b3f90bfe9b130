"""``podatelna trust refresh``: download the LOTL and TLs (off unless trust.allow_fetching)."""

from __future__ import annotations

import argparse
import sys

from signing import FetchRefusedError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("trust", help="trusted lists")
    sub = p.add_subparsers(dest="trust_command", metavar="ACTION")
    r = sub.add_parser("refresh", help="download the LOTL and the TLs it points to")
    r.set_defaults(func=run_refresh)


def run_refresh(args: argparse.Namespace) -> int:
    trust = args.settings.trust
    if not trust.allow_fetching:
        raise FetchRefusedError(
            "Refusing to fetch trusted lists: trust.allow_fetching is false. Set it to true in"
            " podatelna.toml (or PODATELNA_TRUST__ALLOW_FETCHING=1) to allow downloads from"
            f" {trust.lotl_url}."
        )
    print(
        "podatelna: online refresh of trusted lists is not implemented yet; place verified"
        " TL files in trust.trusted_lists instead.",
        file=sys.stderr,
    )
    return 1
