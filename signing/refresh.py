"""Online refresh of the trusted lists into the cache (``podatelna trust refresh``).

Two modes, as configured:

- **LOTL** (``lotl_url``): download the list of the lists, verify its signature against the
  configured TL signers, then download every national list it points to and verify each against
  the certificates the LOTL gives for that list;
- **TL URLs** (``tl_urls``, when set): download each national list and verify it against the
  configured TL signers.

A list is stored only after its signature verified. When a download or a verification fails,
the previous good copy from the cache (same URL) is kept, and the failure is reported. When the
LOTL itself fails, nothing changes at all. The cache is switched atomically (see
:mod:`signing.tl_cache`); verification reads it through :func:`signing.trust.load_trust`, which
verifies every list again.

Only ``http``/``https`` URLs are fetched, with a time-out and a size limit; redirects are followed
only to ``http``/``https`` URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.qualified.eutl_parse import LOTL_RULE, parse_lotl_unsafe

from .errors import FetchRefusedError, TrustConfigError, TrustListError
from .tl_cache import CachedList, file_name, read_cache, store_cache
from .trust import _decode, _load_tl_signers, _peek, _verify_signed

__all__ = ["Fetcher", "RefreshOutcome", "RefreshReport", "http_fetcher", "refresh_trusted_lists"]

#: a downloaded list larger than this is refused (the largest EU national lists are a few MB)
MAX_LIST_BYTES = 32 * 1024 * 1024
TIMEOUT_SECONDS = 30.0

#: ``fetch(url) -> bytes``; raises :class:`TrustListError` when the download fails
Fetcher = Callable[[str], bytes]

Status = Literal["updated", "unchanged", "kept_previous", "failed"]


@dataclass(frozen=True)
class RefreshOutcome:
    """What happened to one list."""

    url: str
    kind: Literal["LOTL", "TL"]
    territory: str
    #: ``updated`` (new bytes stored), ``unchanged`` (same bytes as cached), ``kept_previous``
    #: (download or signature failed; the previous good copy stays), ``failed`` (and no copy)
    status: Status
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("updated", "unchanged")

    def line(self) -> str:
        where = f"{self.kind} {self.territory}".strip()
        text = f"{where} {self.url}: {self.status.replace('_', ' ')}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class RefreshReport:
    """The outcome of one refresh, list by list."""

    cache_dir: str
    outcomes: list[RefreshOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def lines(self) -> list[str]:
        stored = sum(1 for o in self.outcomes if o.status != "failed")
        return [o.line() for o in self.outcomes] + [
            f"{stored} list(s) in {self.cache_dir}; "
            + ("all verified and current." if self.ok else "some could not be refreshed.")
        ]


def _check_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise TrustListError(f"Refusing to fetch {url!r}: only http and https URLs are fetched.")


def http_fetcher(timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_LIST_BYTES) -> Fetcher:
    """A fetcher over HTTP(S) with ``httpx``: time-out, size limit, http(s) redirects only."""

    def fetch(url: str) -> bytes:
        _check_url(url)
        try:
            with httpx.Client(timeout=timeout, follow_redirects=True) as client:
                with client.stream("GET", url, headers={"Accept": "application/xml"}) as resp:
                    if resp.status_code != 200:
                        raise TrustListError(f"HTTP {resp.status_code} from {url}")
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise TrustListError(f"{url} is larger than {max_bytes} bytes")
                        chunks.append(chunk)
                    return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise TrustListError(f"download of {url} failed: {exc}") from exc

    return fetch


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Run:
    """One refresh: the previous cache, what to store, what to report."""

    def __init__(self, cache_dir: str, fetch: Fetcher) -> None:
        self.cache_dir = cache_dir
        self.fetch = fetch
        self.previous = {entry.url: entry for entry in read_cache(cache_dir)}
        self.store: list[tuple[CachedList, bytes | None]] = []
        self.report = RefreshReport(cache_dir)

    def get(
        self,
        url: str,
        kind: Literal["LOTL", "TL"],
        territory: str,
        signers: list[asn1_x509.Certificate],
    ) -> tuple[bytes, str] | None:
        """Download and verify one list; on success queue it for storing and return it."""
        try:
            _check_url(url)
            raw = self.fetch(url)
            text = _decode(raw, url)
            peek = _peek(raw, url)
            if (kind == "LOTL") != peek.is_lotl:
                raise TrustListError(
                    f"{url} is {'a LOTL' if peek.is_lotl else 'not a LOTL'}, a {kind} was expected"
                )
            if territory and peek.territory.casefold() != territory.casefold():
                raise TrustListError(
                    f"{url} says it is the {peek.territory or '(no territory)'} list, the LOTL"
                    f" points to it for {territory}"
                )
            signed, _cert = _verify_signed(text, signers, url)
        except TrustListError as exc:
            self.keep_previous(url, kind, territory, str(exc))
            return None
        name = file_name(raw)
        old = self.previous.get(url)
        unchanged = old is not None and old.file == name
        entry = CachedList(
            url=url,
            kind=kind,
            file=name,
            sha256=name.removesuffix(".xml"),
            fetched_at=_now(),
            territory=territory,
        )
        self.store.append((entry, raw))
        self.report.outcomes.append(
            RefreshOutcome(url, kind, territory, "unchanged" if unchanged else "updated")
        )
        return raw, signed

    def keep_previous(
        self, url: str, kind: Literal["LOTL", "TL"], territory: str, why: str
    ) -> None:
        old = self.previous.get(url)
        if old is not None and (Path(self.cache_dir) / old.file).is_file():
            self.store.append((old, None))
            status: Status = "kept_previous"
            why += f"; keeping the copy fetched at {old.fetched_at}"
        else:
            status = "failed"
        self.report.outcomes.append(RefreshOutcome(url, kind, territory, status, why))


def refresh_trusted_lists(
    *,
    cache_dir: str,
    tl_signers: tuple[str, ...],
    lotl_url: str = "",
    tl_urls: tuple[str, ...] = (),
    allow_fetching: bool,
    fetch: Fetcher | None = None,
) -> RefreshReport:
    """Download, verify and store the trusted lists; see the module docstring.

    :raises FetchRefusedError: ``allow_fetching`` is false.
    :raises TrustConfigError: no TL signer, no URL or no cache directory configured.
    """
    if not allow_fetching:
        raise FetchRefusedError(
            "Refusing to fetch trusted lists: trust.allow_fetching is false. Set it to true in"
            " podatelna.toml (or PODATELNA_TRUST__ALLOW_FETCHING=1) to allow downloads."
        )
    if not tl_signers:
        raise TrustConfigError(
            "No TL-signer certificate is configured (trust.tl_signers): downloaded lists could"
            " not be verified, so nothing is fetched."
        )
    if not (tl_urls or lotl_url):
        raise TrustConfigError("Neither trust.lotl_url nor trust.tl_urls is set.")
    if not cache_dir:
        raise TrustConfigError("No cache directory for trusted lists (trust.cache_dir).")
    signers = _load_tl_signers(tl_signers)
    run = _Run(cache_dir, fetch or http_fetcher())
    if tl_urls:
        for url in tl_urls:
            run.get(url, "TL", "", signers)
        source = "tl_urls"
    else:
        source = lotl_url
        got = run.get(lotl_url, "LOTL", "", signers)
        if got is None:
            # Without a verified LOTL its pointers are unknown: the cache stays as it is.
            return run.report
        try:
            lotl = parse_lotl_unsafe(got[1])
        except Exception as exc:  # noqa: BLE001 - the parser raises many kinds of errors
            raise TrustListError(f"The LOTL from {lotl_url} cannot be read: {exc}.") from exc
        for ref in lotl.references:
            if LOTL_RULE in ref.scheme_rules:
                continue
            run.get(ref.location_uri, "TL", ref.territory, list(ref.tlso_certs))
    _store(run, source)
    return run.report


def _store(run: _Run, source: str) -> None:
    if not run.store:
        return  # nothing good at all: leave the cache as it is (there was none)
    store_cache(run.cache_dir, run.store, source)
