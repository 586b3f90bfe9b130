"""The five-day confirmation period: its last day, and whether a confirmation came in time.

A filing sent without a recognised signature is valid only if the sender confirms it within five
days. Two named rule sets compute the last day of that period; which one applies is a property of
the form type.

``sr`` - Administrative Procedure Code, Act 500/2004 Coll.
    § 37(4): the filing must be confirmed within 5 days. § 40(1)(a): the day of the event that
    starts the period (here: the day the filing was received) is not counted, so day 1 is the
    next calendar day and day 5 is the last. § 40(1)(c): a last day on a Saturday, Sunday or
    public holiday moves to the next working day. § 40(1)(d): the period is kept if on the last
    day the act is done at the authority or the filing is handed to a postal operator addressed
    to it (or sent to it through a data box) - the *posting* date counts, not the arrival.

``dr`` - Tax Code, Act 280/2009 Coll.
    § 71(3): the filing must be confirmed (or repeated) within 5 days from the day it reached the
    tax administrator; the period cannot be extended. § 33(1): "the period begins to run on the
    day following the day of the event that determines its start", so "five days from the day it
    reached" means: day 1 is the day after the arrival and day 5 is the last, exactly as under
    § 40(1)(a) of the Administrative Procedure Code. § 33(4): a last day on a Saturday, Sunday or
    holiday moves to the nearest following working day (the paragraph the Supreme
    Administrative Court applies in 4 Afs 264/2018-85). The posting rule is § 35(1) ("preserving
    the period": an act done at the administrator, a postal consignment handed to a postal
    operator, or a data-box message on the last day keeps it), not a letter of § 33(4).

So the two rule sets **give the same last day for every filing time**, and both accept a
confirmation posted on the last day. They are still two named rule sets, because they are two
statutes: the reasons and citations stored with a deadline name the right one, a form type's
choice is recorded, and the place where they do differ is explicit - under ``dr`` the period
cannot be extended (``RuleSet.extendable`` is false and says why). Under ``sr`` there is no
express bar in § 37(4), but the five days are a statutory period the authority cannot extend
either (only § 41 restoration applies), so the flag is false there too; it is kept per rule set
so that a third rule set that does differ fits in.

Days are calendar days in Europe/Prague, counted from the moment the filing was received (an
aware datetime of any offset; a naive datetime is refused because its day is unknown). Public
holidays come from :mod:`filing_registry.holidays_cz`.

Limits: the calculator trusts the holiday table of the pinned ``holidays`` package; it does not
know about one-off days off declared by a special act, nor about the restoration of a missed
period (§ 41 / Tax Code § 37), which is a clerk's decision, not a computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from filing_registry.holidays_cz import CALENDAR_SOURCE, holiday_name, is_working_day

__all__ = [
    "PERIOD_DAYS",
    "PRAGUE",
    "RULE_SETS",
    "ConfirmationDateMissingError",
    "Deadline",
    "DeadlineError",
    "NaiveTimeError",
    "RuleSet",
    "UnknownRuleSetError",
    "compute_deadline",
    "confirmation_in_time",
    "day_of_period",
    "days_left",
    "filing_day",
    "get_rule_set",
    "is_reminder_day",
    "is_working_day",
]

PRAGUE = ZoneInfo("Europe/Prague")
PERIOD_DAYS = 5
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# -- errors (to move under the package's root error in filing_registry/errors.py) ----------------


class DeadlineError(Exception):
    """A deadline cannot be computed or checked; ``code`` is stable, the message says why."""

    code = "deadline_error"


class UnknownRuleSetError(DeadlineError):
    code = "deadline_unknown_rules"

    def __init__(self, name: object) -> None:
        known = ", ".join(sorted(RULE_SETS))
        super().__init__(f"There is no deadline rule set named {name!r}; known rule sets: {known}.")
        self.name = name


class NaiveTimeError(DeadlineError):
    code = "deadline_naive_time"

    def __init__(self, value: object) -> None:
        super().__init__(
            f"The filing time {value!r} has no time zone offset, so its day in Europe/Prague is "
            "unknown; pass an aware datetime."
        )


class ConfirmationDateMissingError(DeadlineError):
    code = "deadline_confirmation_date_missing"

    def __init__(self) -> None:
        super().__init__(
            "A confirmation needs the day it was posted or the day it was received; neither was "
            "given."
        )


# -- rule sets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSet:
    """One statute's way of counting the confirmation period."""

    name: str
    title: str
    #: where the five days and the duty to confirm come from
    period_basis: str
    #: the first day of the period
    start_basis: str
    #: moving a last day off a weekend or holiday
    shift_basis: str
    #: what keeps the period (posting on the last day)
    kept_basis: str
    extendable: bool
    extension_note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "period_basis": self.period_basis,
            "start_basis": self.start_basis,
            "shift_basis": self.shift_basis,
            "kept_basis": self.kept_basis,
            "extendable": self.extendable,
            "extension_note": self.extension_note,
        }


RULE_SETS: Mapping[str, RuleSet] = MappingProxyType(
    {
        "sr": RuleSet(
            name="sr",
            title="Administrative Procedure Code (Act 500/2004 Coll.)",
            period_basis="§ 37(4): confirm within 5 days",
            start_basis="§ 40(1)(a): the day of the filing is not counted; day 1 is the next day",
            shift_basis="§ 40(1)(c): a last day on a Saturday, Sunday or holiday moves to the "
            "next working day",
            kept_basis="§ 40(1)(d): kept if posted or done at the office on the last day",
            extendable=False,
            extension_note="a statutory period: the authority cannot extend it (only § 41 "
            "restoration applies)",
        ),
        "dr": RuleSet(
            name="dr",
            title="Tax Code (Act 280/2009 Coll.)",
            period_basis="§ 71(3): confirm within 5 days from the day the filing reached the "
            "office",
            start_basis="§ 33(1): the period begins on the day after the filing reached the office",
            shift_basis="§ 33(4): a last day on a Saturday, Sunday or holiday moves to the "
            "nearest following working day",
            kept_basis="§ 35(1): kept if posted or done at the office on the last day",
            extendable=False,
            extension_note="§ 71(3): the period cannot be extended",
        ),
    }
)


def get_rule_set(name: str) -> RuleSet:
    """The rule set called ``name`` (``sr`` or ``dr``); :class:`UnknownRuleSetError` otherwise."""
    try:
        return RULE_SETS[name]
    except (KeyError, TypeError):
        raise UnknownRuleSetError(name) from None


# -- the result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """The confirmation period of one filing, with the reason for every shift of its last day."""

    #: the day the filing was received, in Europe/Prague
    filed_on: date
    rules: str
    #: day 5 of the period before any shift
    nominal_last_day: date
    #: the last day on which a confirmation is in time (posted, or received at the office)
    last_day: date
    #: one plain-English sentence per day the last day was moved over, then the conclusion
    reasons: tuple[str, ...] = ()

    @property
    def rule_set(self) -> RuleSet:
        return get_rule_set(self.rules)

    @property
    def shifted(self) -> bool:
        return self.last_day != self.nominal_last_day

    def to_dict(self) -> dict[str, Any]:
        return {
            "filed_on": self.filed_on.isoformat(),
            "last_day": self.last_day.isoformat(),
            "rules": self.rules,
            "reasons": list(self.reasons),
            "nominal_last_day": self.nominal_last_day.isoformat(),
            "period_days": PERIOD_DAYS,
            "timezone": "Europe/Prague",
            "calendar": CALENDAR_SOURCE,
            "extendable": self.rule_set.extendable,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deadline:
        filed_on = date.fromisoformat(data["filed_on"])
        nominal = data.get("nominal_last_day")
        return cls(
            filed_on=filed_on,
            rules=get_rule_set(data["rules"]).name,
            nominal_last_day=(
                date.fromisoformat(nominal) if nominal else filed_on + timedelta(days=PERIOD_DAYS)
            ),
            last_day=date.fromisoformat(data["last_day"]),
            reasons=tuple(str(r) for r in data.get("reasons", ())),
        )

    def summary(self) -> str:
        """A few lines for people: the counting, the shifts, the last day."""
        rs = self.rule_set
        lines = [
            f"Rules: {rs.name} - {rs.title}; {rs.period_basis}.",
            f"Filed on {_day(self.filed_on)} (Europe/Prague); {rs.start_basis}.",
            f"Day 1 is {_day(self.filed_on + timedelta(days=1))}; "
            f"day {PERIOD_DAYS} is {_day(self.nominal_last_day)}.",
        ]
        lines += [f"  {reason}" for reason in self.reasons]
        lines.append(f"Last day: {_day(self.last_day)}. {rs.kept_basis}.")
        if not rs.extendable:
            lines.append(f"Not extendable: {rs.extension_note}.")
        return "\n".join(lines)


def _day(d: date) -> str:
    return f"{d.isoformat()} ({_WEEKDAYS[d.weekday()]})"


# -- computing ------------------------------------------------------------------------------


def filing_day(filed_at: datetime) -> date:
    """The calendar day in Europe/Prague on which the filing was received."""
    if not isinstance(filed_at, datetime):
        raise NaiveTimeError(filed_at)
    if filed_at.tzinfo is None or filed_at.utcoffset() is None:
        raise NaiveTimeError(filed_at)
    return filed_at.astimezone(PRAGUE).date()


def compute_deadline(filed_at: datetime, rules: str = "sr") -> Deadline:
    """The last day for confirming a filing received at ``filed_at`` under rule set ``rules``."""
    rule_set = get_rule_set(rules)
    filed_on = filing_day(filed_at)
    nominal = filed_on + timedelta(days=PERIOD_DAYS)
    last = nominal
    reasons: list[str] = []
    while not is_working_day(last):
        reasons.append(_why_not_working(last))
        last += timedelta(days=1)
    if reasons:
        reasons.append(
            f"so the last day moves to the next working day, {_day(last)} "
            f"({rule_set.shift_basis.split(':')[0]})"
        )
    return Deadline(
        filed_on=filed_on,
        rules=rule_set.name,
        nominal_last_day=nominal,
        last_day=last,
        reasons=tuple(reasons),
    )


def _why_not_working(d: date) -> str:
    name = holiday_name(d)
    if name is not None:
        return f"{d.isoformat()} is a public holiday ({name})"
    return f"{d.isoformat()} is a {_WEEKDAYS[d.weekday()]}"


# -- using a deadline -----------------------------------------------------------------------


def confirmation_in_time(
    deadline: Deadline, *, posted_on: date | None = None, received_on: date | None = None
) -> bool:
    """Whether a confirmation keeps the period.

    A confirmation posted (handed to a postal operator) on or before the last day is in time
    whenever it arrives; one received at the office (in person, or electronically) on or before
    the last day is in time. Give whichever dates are known; at least one is needed.
    """
    if posted_on is None and received_on is None:
        raise ConfirmationDateMissingError()
    return any(d is not None and d <= deadline.last_day for d in (posted_on, received_on))


def day_of_period(deadline: Deadline, today: date) -> int:
    """Which day of the period ``today`` is: 1 the day after the filing, 5 the nominal last day.

    Days after the nominal last day continue (6, 7...) - up to the shifted last day and beyond;
    the filing day itself is 0.
    """
    return (today - deadline.filed_on).days


def days_left(deadline: Deadline, today: date) -> int:
    """Days from ``today`` to the last day: 0 on the last day, negative once it has passed."""
    return (deadline.last_day - today).days


def is_reminder_day(deadline: Deadline, today: date, reminder_days: Iterable[int]) -> bool:
    """Whether ``today`` is one of the reminder days of the period.

    ``reminder_days`` are days of the period as in the tracker settings (``(3, 5)``): a day
    below 5 is that calendar day of the period; day 5 means *the last day*, which is later than
    the nominal day 5 when that falls on a weekend or holiday (a reminder saying "today is the
    last day" must not go out on a Saturday when the real last day is the Monday after).
    """
    for n in reminder_days:
        if n < 1:
            raise DeadlineError(f"Reminder day {n} is not a day of the period; days start at 1.")
        target = deadline.last_day if n >= PERIOD_DAYS else deadline.filed_on + timedelta(days=n)
        if today == target:
            return True
    return False
