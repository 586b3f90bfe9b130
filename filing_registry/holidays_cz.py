"""The Czech calendar of working days: weekends and public holidays.

Public holidays come from the ``holidays`` package (its version is pinned in ``pyproject.toml``,
because a change in its tables changes deadlines): the state holidays and the "other holidays" of
Act 245/2000 Coll., which are all days off work and therefore all count as "svátek" for the
period rules of Act 500/2004 § 40(1)(c) and Act 280/2009 § 33(4). That covers 1 January, Good
Friday (since 2016), Easter Monday, 1 and 8 May, 5 and 6 July, 28 September, 28 October,
17 November and 24 to 26 December.

Names are the Czech ones, as the law gives them (``Svátek práce``, ``Velký pátek``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType

import holidays

#: names the calendar in results, so a stored deadline says which table decided it
CALENDAR_SOURCE = f"holidays {holidays.__version__} (CZ)"


@lru_cache(maxsize=64)
def holidays_in(year: int) -> Mapping[date, str]:
    """The public holidays of ``year``, date to Czech name, in date order."""
    table = holidays.country_holidays("CZ", years=year, language="cs")
    return MappingProxyType(dict(sorted(table.items())))


def holiday_name(day: date) -> str | None:
    """The Czech name of the public holiday on ``day``, or ``None`` if it is not one."""
    return holidays_in(day.year).get(day)


def is_working_day(day: date) -> bool:
    """True from Monday to Friday unless ``day`` is a Czech public holiday."""
    return day.weekday() < 5 and holiday_name(day) is None
