"""``podatelna demo``: file the sample forms end to end on embedded defaults."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from tqdm import tqdm

import schemas
from intake import Incoming, IncomingFile, Sender
from podatelna.commands._common import open_app
from podatelna.pipeline.runner import wait_for
from podatelna.service import describe, file_submission

SAMPLES = (
    ("obecne-podani", "Jana Nováková", "jana.novakova@example.cz"),
    ("parkovani", "Petr Dvořák", "petr.dvorak@example.cz"),
    ("poplatek-zmena", "Marie Svobodová", "marie.svobodova@example.cz"),
    ("invalid-parkovani-spatna-rz", "Karel Černý", "karel.cerny@example.cz"),
    ("stavebni-ohlaseni", "Eva Procházková", "eva.prochazkova@example.cz"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="file sample submissions end to end and show the receipts")
    p.set_defaults(func=run)


def _export(app: object, key: str, out_dir: Path) -> Path:
    """Copy a stored document out of the object store as a plain PDF a reader can open."""
    path = out_dir / key.replace("/", "_")
    path.write_bytes(app.store.get("receipts", key))  # type: ignore[attr-defined]
    return path


def run(args: argparse.Namespace) -> int:
    app = open_app(args)
    app.ensure_buckets()
    app.pipeline.start_workers()
    ids = []
    try:
        for name, person, email in tqdm(SAMPLES, desc="filing", unit="form"):
            data = schemas.sample_path(name).read_bytes()
            acc = file_submission(
                app,
                Incoming(
                    channel="cli",
                    sender=Sender(email, person),
                    form=IncomingFile(f"{name}.xml", io.BytesIO(data), role="form"),
                ),
            )
            ids.append((name, acc.submission_id))
        for _name, sid in tqdm(ids, desc="processing", unit="form"):
            wait_for(app, sid, timeout=180)
        out_dir = (app.settings.data_path / "demo-receipts").resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        print()
        for name, sid in ids:
            info = describe(app, sid)
            print(f"{name}: {info['state']}")
            if info.get("reference"):
                print(f"  reference number: {info['reference']}")
                if info.get("deadline"):
                    print(f"  not signed in a recognised way: confirm by {info['deadline']}")
                if info.get("receipt"):
                    print(f"  sealed receipt: {_export(app, info['receipt'], out_dir)}")
            for r in info["reasons"][:3]:
                print(f"  rejected: {r.get('message')}")
            if info.get("rejection_notice"):
                notice = _export(app, info["rejection_notice"], out_dir)
                print(f"  sealed rejection notice: {notice}")
        print(
            f"\nstored in the object store ({app.store.describe()}) and copied as plain PDF "
            f"files to {out_dir}; e-mail notices in {app.settings.data_path / 'outbox'}"
        )
        return 0
    finally:
        app.close()
