"""``podatelna verify FILE``: verify every signature in a file and print the report."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from signing import TrustSettings, load_trust, verify_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("verify", help="verify the signatures in a file (PDF, CMS, XML)")
    p.add_argument("file", help="the file to verify")
    p.add_argument("--detached-content", help="the signed file, for a detached .p7s signature")
    p.add_argument("--trusted-list", action="append", default=[], help="trusted list (TL.xml)")
    p.add_argument("--tl-signer", action="append", default=[], help="TL signer cert (PEM)")
    p.add_argument("--revocation", action="append", default=[], help="local CRL or OCSP file")
    p.add_argument("--at", help="validation time, ISO 8601 with a time zone (default: now)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    base = TrustSettings.from_config(args.settings.trust, args.settings.data_dir)
    settings = TrustSettings(
        trusted_lists=tuple(args.trusted_list) or base.trusted_lists,
        tl_signers=tuple(args.tl_signer) or base.tl_signers,
        revocation=tuple(args.revocation) or base.revocation,
        allow_fetching=base.allow_fetching,
        # lists given on the command line replace the configured ones and the cache
        cache_dir="" if args.trusted_list else base.cache_dir,
    )
    at = None
    if args.at:
        at = datetime.fromisoformat(args.at)
        if at.tzinfo is None:
            raise SystemExit("podatelna: --at needs a time zone, e.g. 2025-05-01T12:00:00+02:00")
    trust = load_trust(settings)
    for refused in trust.refused:
        print(f"podatelna: warning: {refused.reason}", file=sys.stderr)
    path = Path(args.file)
    detached = Path(args.detached_content).read_bytes() if args.detached_content else None
    report = verify_file(path, name=path.name, detached_content=detached, trust=trust, at=at)
    if args.json:
        print(
            json.dumps(
                {
                    "recognised": report.recognised,
                    "signatures": [s.to_dict() for s in report.signatures],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(report.summary("en"))
    return 0
