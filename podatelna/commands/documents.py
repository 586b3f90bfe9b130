"""``podatelna receipt``, ``podatelna copy`` and ``podatelna export personal|journal``."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from podatelna import documents
from podatelna.app import App
from podatelna.commands._common import open_app


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    r = sub.add_parser("receipt", help="write the sealed receipt of a filing to a file")
    r.add_argument("reference")
    r.add_argument("--output", type=Path, required=True, metavar="FILE.pdf")
    r.set_defaults(func=run_receipt)

    c = sub.add_parser("copy", help="write the sealed copy (opis) of a filing to a file")
    c.add_argument("reference")
    c.add_argument("--output", type=Path, required=True, metavar="FILE.pdf")
    c.set_defaults(func=run_copy)

    e = sub.add_parser("export", help="sealed exports")
    esub = e.add_subparsers(dest="export_kind", metavar="KIND", required=True)
    p = esub.add_parser("personal", help="everything held about a sender (PDF + JSON)")
    p.add_argument("--sender", required=True, help="the sender's e-mail")
    p.add_argument("--output", type=Path, required=True, metavar="DIR")
    p.set_defaults(func=run_personal)
    j = esub.add_parser("journal", help="the filing journal for a date range (PDF + XML)")
    j.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True)
    j.add_argument("--to", dest="date_to", type=date.fromisoformat, required=True)
    j.add_argument("--output", type=Path, required=True, metavar="DIR")
    j.set_defaults(func=run_journal)


def run_receipt(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        args.output.write_bytes(documents.stored_receipt(app, args.reference))
        print(args.output)
        return 0
    finally:
        app.close()


def run_copy(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        app.ensure_buckets()
        _key, pdf = documents.issue_copy(app, args.reference)
        args.output.write_bytes(pdf)
        print(args.output)
        return 0
    finally:
        app.close()


def _write(app: App, export: documents.Export, out: Path, stem: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / f"{stem}.pdf"
    pdf.write_bytes(export.pdf)
    data = out / f"{stem}.{export.data_name.rsplit('.', 1)[-1]}"
    data.write_bytes(export.data)
    print(pdf)
    print(data)
    link = documents.download_link(app, "exports", export.pdf_key)
    print(f"download link (valid {app.settings.storage.link_ttl_seconds} s): {link}")


def run_personal(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        app.ensure_buckets()
        _write(app, documents.personal_export(app, args.sender, actor="cli"), args.output, "export")
        return 0
    finally:
        app.close()


def run_journal(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        app.ensure_buckets()
        export = documents.journal_export(app, args.date_from, args.date_to, actor="cli")
        _write(app, export, args.output, "journal")
        return 0
    finally:
        app.close()
