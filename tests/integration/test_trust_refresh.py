"""``podatelna trust refresh`` against a real HTTP server on 127.0.0.1 (never the network).

The server (``http.server`` in a thread) serves the test PKI's LOTL and the CZ and SK lists it
points to; tests change what it serves between refreshes to break a download or a signature.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from podatelna.cli import main
from signing import TrustSettings, load_trust
from signing.tl_cache import MANIFEST, read_cache
from tests.pki import sample_pdf, shared_pki, t


class ListServer:
    """Serves ``files[path]``; a path mapped to an int answers with that HTTP status."""

    def __init__(self) -> None:
        self.files: dict[str, bytes | int] = {}
        self.requests: list[str] = []
        files, requests = self.files, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                requests.append(self.path)
                body = files.get(self.path, 404)
                if isinstance(body, int):
                    self.send_error(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.etsi.tsl+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ListServer]:
    srv = ListServer()
    yield srv
    srv.close()


@pytest.fixture
def pki():
    return shared_pki()


def _serve_lotl_set(server: ListServer, pki, **kwargs) -> dict[str, bytes]:
    files = pki.lotl_set(server.base, **kwargs)
    for name, data in files.items():
        server.files[f"/{name}"] = data
    return files


def _config(tmp_path: Path, pki, server: ListServer, *, allow=True, extra="") -> Path:
    crls = ", ".join(f'"{p}"' for p in pki.crl_paths)
    cfg = tmp_path / "podatelna.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path / "var"}"\n'
        "[trust]\n"
        f"allow_fetching = {'true' if allow else 'false'}\n"
        f'lotl_url = "{server.base}/lotl.xml"\n'
        f'tl_signers = ["{pki.tl_signer_path}"]\n'
        f"revocation = [{crls}]\n" + extra
    )
    return cfg


def _refresh(cfg: Path, capsys) -> tuple[int, dict]:
    rc = main(["--config", str(cfg), "trust", "refresh", "--json"])
    return rc, json.loads(capsys.readouterr().out)


def _statuses(out: dict) -> dict[str, str]:
    return {(o["territory"] or o["kind"]): o["status"] for o in out["lists"]}


def _cache(tmp_path: Path) -> Path:
    return tmp_path / "var" / "trusted-lists"


def _settings(pki, tmp_path: Path) -> TrustSettings:
    return pki.trust_settings(trusted_lists=(), cache_dir=str(_cache(tmp_path)))


def test_refresh_downloads_verifies_and_verification_uses_the_cache(tmp_path, pki, server, capsys):
    _serve_lotl_set(server, pki)
    cfg = _config(tmp_path, pki, server)
    rc, out = _refresh(cfg, capsys)
    assert rc == 0 and out["ok"] is True
    assert _statuses(out) == {"LOTL": "updated", "CZ": "updated", "SK": "updated"}
    assert sorted(server.requests) == ["/cz.xml", "/lotl.xml", "/sk.xml"]
    entries = read_cache(_cache(tmp_path))
    assert {e.url.rsplit("/", 1)[1] for e in entries} == {"lotl.xml", "cz.xml", "sk.xml"}
    for entry in entries:
        assert (_cache(tmp_path) / entry.file).read_bytes() == server.files[
            "/" + entry.url.rsplit("/", 1)[1]
        ]

    # `podatelna verify` without --trusted-list uses the cached, re-verified lists
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(pki.sign_pdf("qes", sample_pdf()))
    argv = ["--config", str(cfg), "verify", str(pdf), "--at", t.VALIDATION_TIME.isoformat()]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recognised"] is True
    assert report["signatures"][0]["qualification"] == "QESig"

    # a second refresh finds the same bytes
    rc, out = _refresh(cfg, capsys)
    assert rc == 0 and set(_statuses(out).values()) == {"unchanged"}


def test_plain_text_output_says_what_was_done(tmp_path, pki, server, capsys):
    _serve_lotl_set(server, pki)
    cfg = _config(tmp_path, pki, server)
    assert main(["--config", str(cfg), "trust", "refresh"]) == 0
    out = capsys.readouterr().out
    assert f"LOTL {server.base}/lotl.xml: updated" in out
    assert f"TL CZ {server.base}/cz.xml: updated" in out
    assert "3 list(s) in" in out and "all verified and current" in out


def test_wrongly_signed_list_keeps_the_previous_good_copy(tmp_path, pki, server, capsys):
    good = _serve_lotl_set(server, pki)
    cfg = _config(tmp_path, pki, server)
    assert _refresh(cfg, capsys)[0] == 0
    sk_before = {e.url: e for e in read_cache(_cache(tmp_path))}[f"{server.base}/sk.xml"]

    bad = pki.lotl_set(server.base, signers={"SK": pki.rogue_tl_signer})
    server.files["/sk.xml"] = bad["sk.xml"]
    rc, out = _refresh(cfg, capsys)
    assert rc == 1 and out["ok"] is False
    assert _statuses(out) == {"LOTL": "unchanged", "CZ": "unchanged", "SK": "kept_previous"}
    (sk_out,) = [o for o in out["lists"] if o["territory"] == "SK"]
    assert "signature does not verify" in sk_out["detail"]
    sk_after = {e.url: e for e in read_cache(_cache(tmp_path))}[f"{server.base}/sk.xml"]
    assert sk_after == sk_before
    assert (_cache(tmp_path) / sk_after.file).read_bytes() == good["sk.xml"]
    trust = load_trust(_settings(pki, tmp_path))
    assert {tl.territory for tl in trust.lists} == {"EU", "CZ", "SK"} and not trust.refused


def test_failed_download_keeps_the_previous_good_copy(tmp_path, pki, server, capsys):
    _serve_lotl_set(server, pki)
    cfg = _config(tmp_path, pki, server)
    assert _refresh(cfg, capsys)[0] == 0
    server.files["/cz.xml"] = 500
    rc, out = _refresh(cfg, capsys)
    assert rc == 1
    assert _statuses(out)["CZ"] == "kept_previous"
    assert "500" in next(o["detail"] for o in out["lists"] if o["territory"] == "CZ")
    assert len(read_cache(_cache(tmp_path))) == 3


def test_broken_lotl_changes_nothing(tmp_path, pki, server, capsys):
    _serve_lotl_set(server, pki)
    cfg = _config(tmp_path, pki, server)
    assert _refresh(cfg, capsys)[0] == 0
    manifest = (_cache(tmp_path) / MANIFEST).read_bytes()
    files_before = sorted(p.name for p in _cache(tmp_path).iterdir())

    # a new LOTL and new national lists, but the LOTL is signed by the wrong key
    _serve_lotl_set(server, pki, lotl_signer=pki.rogue_tl_signer)
    server.requests.clear()
    rc, out = _refresh(cfg, capsys)
    assert rc == 1
    assert _statuses(out) == {"LOTL": "kept_previous"}
    assert server.requests == ["/lotl.xml"]  # its pointers are not followed
    assert (_cache(tmp_path) / MANIFEST).read_bytes() == manifest
    assert sorted(p.name for p in _cache(tmp_path).iterdir()) == files_before


def test_first_refresh_stores_what_verified_and_reports_the_rest(tmp_path, pki, server, capsys):
    _serve_lotl_set(server, pki, signers={"CZ": None})
    cfg = _config(tmp_path, pki, server)
    rc, out = _refresh(cfg, capsys)
    assert rc == 1
    assert _statuses(out) == {"LOTL": "updated", "CZ": "failed", "SK": "updated"}
    assert {e.territory for e in read_cache(_cache(tmp_path))} == {"", "SK"}
    trust = load_trust(_settings(pki, tmp_path))
    assert trust.missing_territories == ("CZ",)


def test_refresh_of_configured_tl_urls(tmp_path, pki, server, capsys):
    server.files["/national.xml"] = pki.tl_path.read_bytes()
    server.files["/rogue.xml"] = pki.write_trusted_list(
        "refresh-rogue.xml", signer=pki.rogue_tl_signer
    ).read_bytes()
    urls = f'tl_urls = ["{server.base}/national.xml", "{server.base}/rogue.xml"]\n'
    cfg = _config(tmp_path, pki, server, extra=urls)
    rc, out = _refresh(cfg, capsys)
    assert rc == 1
    assert [(o["url"].rsplit("/", 1)[1], o["status"]) for o in out["lists"]] == [
        ("national.xml", "updated"),
        ("rogue.xml", "failed"),
    ]
    assert "/lotl.xml" not in server.requests
    trust = load_trust(_settings(pki, tmp_path))
    assert [tl.services for tl in trust.lists] == [3]


def test_refresh_is_refused_when_fetching_is_off(tmp_path, pki, server, capsys):
    _serve_lotl_set(server, pki)
    cfg = _config(tmp_path, pki, server, allow=False)
    assert main(["--config", str(cfg), "trust", "refresh"]) == 1
    assert "trust_fetching_disabled" in capsys.readouterr().err
    assert server.requests == []
    assert not _cache(tmp_path).exists()


def test_pointers_to_non_http_urls_are_not_followed(tmp_path, pki, server, capsys):
    secret = tmp_path / "cz.xml"
    secret.write_bytes(pki.lotl_set()["cz.xml"])
    files = pki.lotl_set(f"file://{tmp_path}")
    server.files["/lotl.xml"] = files["lotl.xml"]
    cfg = _config(tmp_path, pki, server)
    rc, out = _refresh(cfg, capsys)
    assert rc == 1
    assert _statuses(out) == {"LOTL": "updated", "CZ": "failed", "SK": "failed"}
    assert all("only http and https" in o["detail"] for o in out["lists"] if o["kind"] == "TL")
