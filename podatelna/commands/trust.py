"""``podatelna trust refresh``: download, verify and cache the trusted lists.

Off unless ``trust.allow_fetching`` is true. Fetches the LOTL (``trust.lotl_url``) and the
national lists it points to, or the national lists of ``trust.tl_urls``; stores only lists whose
signature verified, in ``trust.cache_dir`` (default ``<data_dir>/trusted-lists``), which
verification then uses. Exit status 0 when every list is current, 1 when a list could not be
refreshed (its previous good copy, if any, is kept).
"""

from __future__ import annotations

import argparse
import json

from signing import TrustSettings
from signing.refresh import refresh_trusted_lists


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("trust", help="trusted lists")
    sub = p.add_subparsers(dest="trust_command", metavar="ACTION")
    r = sub.add_parser(
        "refresh", help="download, verify and cache the LOTL and the TLs it points to"
    )
    r.add_argument("--json", action="store_true", help="print what was done as JSON")
    r.set_defaults(func=run_refresh)


def run_refresh(args: argparse.Namespace) -> int:
    section = args.settings.trust
    settings = TrustSettings.from_config(section, args.settings.data_dir)
    report = refresh_trusted_lists(
        cache_dir=settings.cache_dir,
        tl_signers=settings.tl_signers,
        lotl_url=section.lotl_url,
        tl_urls=tuple(section.tl_urls),
        allow_fetching=settings.allow_fetching,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "cache_dir": report.cache_dir,
                    "lists": [
                        {
                            "url": o.url,
                            "kind": o.kind,
                            "territory": o.territory,
                            "status": o.status,
                            "detail": o.detail,
                        }
                        for o in report.outcomes
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for line in report.lines():
            print(line)
    return 0 if report.ok else 1
