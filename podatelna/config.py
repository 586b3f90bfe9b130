"""Configuration: one frozen, typed settings object.

Settings are read, in this order, from the embedded defaults, a TOML file (``podatelna.toml`` in
the working directory, or the path given by ``--config`` / ``PODATELNA_CONFIG``) and environment
variables named ``PODATELNA_<SECTION>__<KEY>`` (for example ``PODATELNA_DATABASE__URL``) or
``PODATELNA_<KEY>`` for top-level keys. Unknown keys, in the file or the environment, are an
error: a misspelt setting must never be silently ignored.

This is the only module that reads the environment for settings.

The embedded defaults need no file at all: SQLite under ``./var/``, a directory object store
under ``./var/objects``, dramatiq's in-process broker, a seal key and a timestamp authority
created at first start (development only, and said so in the log).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from validators import DEFAULT_ALLOWED_MEDIA_TYPES

ENV_PREFIX = "PODATELNA_"
CONFIG_ENV = "PODATELNA_CONFIG"
DEFAULT_CONFIG_FILE = "podatelna.toml"


class ConfigError(Exception):
    """The configuration is invalid; the message says which key and why."""

    code = "config_invalid"


@dataclass(frozen=True)
class DatabaseSettings:
    #: SQLAlchemy URL; empty means a SQLite file ``<data_dir>/podatelna.sqlite3``.
    url: str = ""
    echo: bool = False
    pool_size: int = 10


@dataclass(frozen=True)
class BrokerSettings:
    #: ``inprocess`` (embedded default: workers run inside the same process), ``redis`` or
    #: ``rabbitmq``.
    kind: Literal["inprocess", "redis", "rabbitmq"] = "inprocess"
    url: str = ""
    #: namespace of queue names, so that several deployments can share one broker
    namespace: str = "podatelna"
    worker_threads: int = 4
    #: a stage not finished this long after it was queued is sent again by the sweeper
    lease_seconds: int = 300
    sweep_interval_seconds: int = 30
    #: validate, verify and register a submission of one plainly unsigned XML form at intake,
    #: in the transaction that records it (it is acknowledged with its reference number, and
    #: the broker carries only its receipt); false: every submission goes stage by stage
    register_at_intake: bool = True


@dataclass(frozen=True)
class StorageSettings:
    #: ``filesystem`` (embedded default) or ``s3``
    kind: Literal["filesystem", "s3"] = "filesystem"
    #: root directory of the filesystem backend; empty means ``<data_dir>/objects``
    root: str = ""
    endpoint: str = ""
    access_key: str = ""
    secret_key: str = ""
    secure: bool = True
    region: str = ""
    bucket_prefix: str = "podatelna-"
    #: retention of receipts under object lock, in days (records law; 0 disables the lock)
    receipt_retention_days: int = 3650
    #: lifetime of download links
    link_ttl_seconds: int = 900


@dataclass(frozen=True)
class LimitSettings:
    max_total_bytes: int = 25 * 1024 * 1024
    max_files: int = 20
    max_file_bytes: int = 20 * 1024 * 1024
    max_form_bytes: int = 5 * 1024 * 1024
    max_xml_depth: int = 64
    #: media types accepted as attachments (detected from content, never from the name)
    allowed_media_types: tuple[str, ...] = tuple(sorted(DEFAULT_ALLOWED_MEDIA_TYPES))


@dataclass(frozen=True)
class OfficeSettings:
    #: office code in reference numbers
    code: str = "MMO"
    name: str = "Magistrát města Ostravy"
    address: str = "Prokešovo náměstí 8, 702 00 Ostrava"
    #: reference number pattern: ``{office}``, ``{seq}``, ``{year}``
    reference_pattern: str = "{office}/{seq:05d}/{year}"
    timezone: str = "Europe/Prague"
    #: base URL of the portal, printed in receipts and notifications
    portal_url: str = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class SealSettings:
    #: ``pkcs12`` (embedded default: created at first start, NOT for production) or ``pkcs11``
    kind: Literal["pkcs12", "pkcs11"] = "pkcs12"
    #: PKCS#12 file; empty means ``<data_dir>/seal/seal.p12`` (created when missing)
    pkcs12_path: str = ""
    pkcs12_password: str = ""
    pkcs11_module: str = ""
    pkcs11_token_label: str = ""
    pkcs11_pin: str = ""
    pkcs11_key_label: str = ""
    pkcs11_cert_label: str = ""
    #: PEM files of the seal certificate's issuers (PKCS#11 tokens often hold only the leaf)
    chain_pem: tuple[str, ...] = ()
    #: ``B-T`` (seal + signature timestamp), ``B-LT`` (+ revocation data embedded), ``B-LTA``
    #: (+ document timestamp)
    level: Literal["B-B", "B-T", "B-LT", "B-LTA"] = "B-LT"


@dataclass(frozen=True)
class TimestampSettings:
    #: ``local`` (embedded default: a local TSA with its own certificate) or ``http`` (RFC 3161)
    kind: Literal["local", "http"] = "local"
    url: str = ""
    username: str = ""
    password: str = ""
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class TrustSettings:
    #: ETSI TS 119 612 trusted list files (national TL, or LOTL plus the TLs it points to)
    trusted_lists: tuple[str, ...] = ()
    #: PEM certificates allowed to sign the trusted lists
    tl_signers: tuple[str, ...] = ()
    #: local CRL / OCSP response files used as revocation data
    revocation: tuple[str, ...] = ()
    #: verification never fetches from the network unless this is set
    allow_fetching: bool = False
    #: LOTL URL for ``podatelna trust refresh``
    lotl_url: str = "https://ec.europa.eu/tools/lotl/eu-lotl.xml"
    #: national TL URLs for ``podatelna trust refresh`` (each verified against tl_signers);
    #: when set, they are fetched instead of the LOTL
    tl_urls: tuple[str, ...] = ()
    #: where ``podatelna trust refresh`` stores verified lists, which verification then uses
    #: besides trusted_lists; empty means ``<data_dir>/trusted-lists``
    cache_dir: str = ""


@dataclass(frozen=True)
class NotificationSettings:
    #: ``outbox`` (embedded default: messages written under ``<data_dir>/outbox``) or ``smtp``
    kind: Literal["outbox", "smtp"] = "outbox"
    outbox_dir: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    sender: str = "podatelna@localhost"


@dataclass(frozen=True)
class TrackerSettings:
    #: days (1..5) of the period on which a reminder is sent; the last day is ``5``
    reminder_days: tuple[int, ...] = (3, 5)
    sweep_interval_seconds: int = 300


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    #: secret for signed download tokens and session cookies; empty means one is generated and
    #: kept under ``<data_dir>/secret.key``
    secret_key: str = ""
    cookie_secure: bool = False
    #: an account is locked this long after five wrong passwords in a row
    lockout_minutes: int = 15
    #: lifetime of the e-mail verification link, in hours
    verify_link_hours: int = 48
    #: lifetime of a password-reset link, in minutes (the link also works only once)
    reset_link_minutes: int = 60
    #: a browser session ends this many hours after the login
    session_hours: int = 12
    #: lifetime of an API bearer token, in days
    api_token_days: int = 90
    #: personal data of an ended account is erased at most this many days after it ends
    erase_after_days: int = 30


@dataclass(frozen=True)
class DataboxSettings:
    """Data-box message intake (``POST /api/v1/databox/messages``)."""

    #: the office's own data-box ids; a message addressed to another box is rejected (empty:
    #: any recipient box is accepted)
    box_ids: tuple[str, ...] = ()
    #: total size of a message's files, decoded (ISDS: 20 MB)
    max_total_bytes: int = 20 * 1024 * 1024
    #: number of files in one message
    max_files: int = 50
    #: entries of one ZIP/ASiC archive in a message
    max_archive_entries: int = 1000
    #: bytes all entries of one archive may inflate to (a zip bomb is refused beyond this)
    max_archive_uncompressed_bytes: int = 100 * 1024 * 1024
    #: how many times an entry may inflate its compressed size
    max_archive_ratio: int = 200
    #: media types (detected from content) a message may carry; empty means the data-box
    #: decree's list (``intake.databox.DECREE_MEDIA_TYPES``)
    allowed_media_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    #: where embedded defaults keep their data
    data_dir: str = "var"
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    office: OfficeSettings = field(default_factory=OfficeSettings)
    seal: SealSettings = field(default_factory=SealSettings)
    timestamp: TimestampSettings = field(default_factory=TimestampSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    web: WebSettings = field(default_factory=WebSettings)
    databox: DataboxSettings = field(default_factory=DataboxSettings)
    #: crash testing only: names of points at which the process kills itself (see failpoints.py)
    failpoints: tuple[str, ...] = ()

    # -- derived paths ----------------------------------------------------------------------

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_path / 'podatelna.sqlite3').resolve()}"

    @property
    def storage_root(self) -> Path:
        return Path(self.storage.root) if self.storage.root else self.data_path / "objects"

    def replace(self, **sections: Any) -> Settings:
        """A copy with some sections or keys replaced: ``replace(broker={"kind": "redis"})``."""
        return _merge(self, sections, "")


# -- loading ------------------------------------------------------------------------------------


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: typing.Mapping[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Build the settings from defaults, the TOML file, the environment and ``overrides``."""
    env = os.environ if environ is None else environ
    settings = Settings()
    file_path = path or env.get(CONFIG_ENV)
    if file_path:
        p = Path(file_path)
        if not p.is_file():
            raise ConfigError(f"The configuration file {p} does not exist.")
        settings = _merge(settings, _read_toml(p), f"{p}: ")
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        settings = _merge(settings, _read_toml(Path(DEFAULT_CONFIG_FILE)), "podatelna.toml: ")
    settings = _merge(settings, _from_environ(env), "environment: ")
    if overrides:
        settings = _merge(settings, overrides, "overrides: ")
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def _from_environ(env: typing.Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        if name.startswith("PODATELNA_TEST_"):
            continue  # the test suite's own settings
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


def _merge(obj: Any, values: dict[str, Any], where: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{where}expected a table, got {values!r}")
    hints = typing.get_type_hints(type(obj))
    known = {f.name for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"{where}unknown setting {key!r}; known settings here: {', '.join(sorted(known))}."
            )
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            changes[key] = _merge(current, value, f"{where}{key}.")
        else:
            changes[key] = _coerce(value, hints[key], f"{where}{key}")
    return dataclasses.replace(obj, **changes)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ConfigError(
                f"{where} must be one of {', '.join(map(str, allowed))}, not {value!r}."
            )
        return value
    if origin in (tuple,):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be a list, not {value!r}.")
        (item_type, *_rest) = typing.get_args(hint)
        return tuple(_coerce(v, item_type, where) for v in value)
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where} must be true or false, not {value!r}.")
    if hint is int:
        try:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be a whole number, not {value!r}.") from None
    if hint is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be a number, not {value!r}.") from None
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, not {value!r}.")
        return value
    return value
