"""Times as printed on documents: Europe/Prague, with the offset, to the second."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PRAGUE = ZoneInfo("Europe/Prague")


def iso(dt: datetime) -> str:
    """``2026-03-02T10:15:30+01:00`` (xs:dateTime)."""
    return dt.astimezone(PRAGUE).isoformat(timespec="seconds")


def human(dt: datetime) -> str:
    """``2. 3. 2026 10:15:30 SEČ (UTC+01:00)``."""
    local = dt.astimezone(PRAGUE)
    offset = local.strftime("%z")
    zone = "SELČ" if offset == "+0200" else "SEČ"
    return (
        f"{local.day}. {local.month}. {local.year} {local:%H:%M:%S} "
        f"{zone} (UTC{offset[:3]}:{offset[3:]})"
    )


def human_date(d: date) -> str:
    return f"{d.day}. {d.month}. {d.year}"
