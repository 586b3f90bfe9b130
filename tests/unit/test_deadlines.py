"""The five-day confirmation period, pinned by a table worked out by hand from a calendar.

Every expected date below was read off a printed calendar (weekdays) and the list of Czech public
holidays (1 Jan; Good Friday since 2016; Easter Monday; 1 May; 8 May; 5 and 6 Jul; 28 Sep;
28 Oct; 17 Nov; 24, 25 and 26 Dec), never computed with the code under test. Counting: the
filing day (in Europe/Prague) is day 0, day 5 is the nominal last day; a Saturday, Sunday or
holiday moves it to the next working day. ``sr`` and ``dr`` agree on every row (see the module
docstring of filing_registry.deadlines); both columns are still written out.

Prague is UTC+1 in winter (CET) and UTC+2 in summer (CEST); in 2026 summer time starts on
29 March at 01:00 UTC and ends on 25 October at 01:00 UTC.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from filing_registry.deadlines import (
    RULE_SETS,
    ConfirmationDateMissingError,
    Deadline,
    DeadlineError,
    NaiveTimeError,
    UnknownRuleSetError,
    compute_deadline,
    confirmation_in_time,
    day_of_period,
    days_left,
    filing_day,
    is_reminder_day,
    is_working_day,
)
from filing_registry.holidays_cz import holiday_name, holidays_in
from podatelna.cli import main as cli_main

# (filed at, last day under sr, last day under dr, how it was worked out)
TABLE = [
    # -- every weekday, in June 2026 (no holidays): Mon 1 ... Sun 7, Mon 8 ... Fri 12
    ("2026-06-01T10:00:00+02:00", "2026-06-08", "2026-06-08", "Mon; day 5 Sat 6 -> Mon 8"),
    ("2026-06-02T10:00:00+02:00", "2026-06-08", "2026-06-08", "Tue; day 5 Sun 7 -> Mon 8"),
    ("2026-06-03T10:00:00+02:00", "2026-06-08", "2026-06-08", "Wed; day 5 Mon 8, working"),
    ("2026-06-04T10:00:00+02:00", "2026-06-09", "2026-06-09", "Thu; day 5 Tue 9"),
    ("2026-06-05T10:00:00+02:00", "2026-06-10", "2026-06-10", "Fri; day 5 Wed 10"),
    ("2026-06-06T10:00:00+02:00", "2026-06-11", "2026-06-11", "Sat filing counts; Thu 11"),
    ("2026-06-07T10:00:00+02:00", "2026-06-12", "2026-06-12", "Sun filing counts; Fri 12"),
    # -- late evening and just after midnight in Prague
    ("2026-06-05T23:30:00+02:00", "2026-06-10", "2026-06-10", "Fri 23:30 CEST is still Fri"),
    ("2026-06-05T21:59:59Z", "2026-06-10", "2026-06-10", "Fri 23:59:59 CEST"),
    ("2026-06-05T22:30:00Z", "2026-06-11", "2026-06-11", "UTC Fri, Prague Sat 00:30 -> Thu 11"),
    ("2026-01-15T22:59:00Z", "2026-01-20", "2026-01-20", "Thu 15 Jan 23:59 CET -> Tue 20"),
    ("2026-01-15T23:15:00Z", "2026-01-21", "2026-01-21", "UTC Thu, Prague Fri 16 00:15 -> Wed 21"),
    ("2026-06-03T18:00:00-05:00", "2026-06-09", "2026-06-09", "= Thu 4 Jun 01:00 CEST -> Tue 9"),
    # -- start of summer time, Sun 29 Mar 2026, next to Easter 2026 (Fri 3 / Mon 6 Apr)
    ("2026-03-28T22:30:00Z", "2026-04-02", "2026-04-02", "Sat 28 23:30 CET; day 5 Thu 2 Apr"),
    ("2026-03-28T23:30:00Z", "2026-04-07", "2026-04-07", "Sun 29 00:30 CET; Fri 3 GF..Mon 6 EM"),
    ("2026-03-29T00:59:00Z", "2026-04-07", "2026-04-07", "Sun 29 01:59 CET, just before jump"),
    ("2026-03-29T01:00:00Z", "2026-04-07", "2026-04-07", "Sun 29 03:00 CEST, just after jump"),
    ("2026-03-29T21:59:00Z", "2026-04-07", "2026-04-07", "Sun 29 23:59 CEST -> Fri 3 GF -> Tue 7"),
    ("2026-03-29T22:30:00Z", "2026-04-07", "2026-04-07", "Mon 30 00:30 CEST; Sat 4 -> Tue 7"),
    ("2026-04-02T09:00:00+02:00", "2026-04-07", "2026-04-07", "Thu 2 Apr; day 5 Tue 7, working"),
    ("2026-04-03T09:00:00+02:00", "2026-04-08", "2026-04-08", "filed on Good Friday; Wed 8"),
    # -- end of summer time, Sun 25 Oct 2026 (02:00-03:00 happens twice), 28 Oct holiday
    ("2026-10-24T21:59:00Z", "2026-10-29", "2026-10-29", "Sat 24 23:59 CEST; day 5 Thu 29"),
    ("2026-10-24T22:00:00Z", "2026-10-30", "2026-10-30", "Sun 25 00:00 CEST; day 5 Fri 30"),
    ("2026-10-25T00:30:00Z", "2026-10-30", "2026-10-30", "Sun 25 02:30 CEST (first 02:30)"),
    ("2026-10-25T02:30:00+01:00", "2026-10-30", "2026-10-30", "Sun 25 02:30 CET (second)"),
    ("2026-10-25T22:59:00Z", "2026-10-30", "2026-10-30", "Sun 25 23:59 CET"),
    ("2026-10-25T23:00:00Z", "2026-11-02", "2026-11-02", "Mon 26 00:00 CET; Sat 31 -> Mon 2 Nov"),
    ("2026-10-23T10:00:00+02:00", "2026-10-29", "2026-10-29", "Fri; day 5 Wed 28 Oct hol -> Thu"),
    ("2027-10-23T10:00:00+02:00", "2027-10-29", "2027-10-29", "Sat; day 5 Thu 28 Oct hol -> Fri"),
    # -- Easter in other years
    ("2024-03-24T12:00:00+01:00", "2024-04-02", "2024-04-02", "Sun; Fri 29 Mar GF..Mon 1 Apr EM"),
    ("2024-03-27T09:00:00+01:00", "2024-04-02", "2024-04-02", "Wed; day 5 Mon 1 Apr EM -> Tue"),
    ("2025-04-13T12:00:00+02:00", "2025-04-22", "2025-04-22", "Sun; Fri 18 GF..Mon 21 EM"),
    ("2025-04-16T09:00:00+02:00", "2025-04-22", "2025-04-22", "Wed; day 5 Mon 21 EM -> Tue 22"),
    ("2025-04-17T23:30:00+02:00", "2025-04-22", "2025-04-22", "Thu 23:30; day 5 Tue 22"),
    ("2027-03-21T12:00:00+01:00", "2027-03-30", "2027-03-30", "Sun; Fri 26 GF..Mon 29 EM"),
    ("2027-03-24T09:00:00+01:00", "2027-03-30", "2027-03-30", "Wed; day 5 Mon 29 EM -> Tue 30"),
    ("2015-03-29T12:00:00+02:00", "2015-04-03", "2015-04-03", "Good Friday 2015: not yet a hol"),
    # -- 1 May and 8 May
    ("2026-04-26T12:00:00+02:00", "2026-05-04", "2026-05-04", "Sun; Fri 1 May hol, Sat, Sun"),
    ("2026-05-03T12:00:00+02:00", "2026-05-11", "2026-05-11", "Sun; Fri 8 May hol, Sat, Sun"),
    ("2026-04-30T22:15:00Z", "2026-05-06", "2026-05-06", "Prague Fri 1 May 00:15; Wed 6"),
    ("2025-04-26T12:00:00+02:00", "2025-05-02", "2025-05-02", "Sat; Thu 1 May hol -> Fri 2"),
    ("2025-05-03T12:00:00+02:00", "2025-05-09", "2025-05-09", "Sat; Thu 8 May hol -> Fri 9"),
    ("2027-05-03T12:00:00+02:00", "2027-05-10", "2027-05-10", "Mon; Sat 8 May (hol) -> Mon 10"),
    # -- 5 and 6 July
    ("2026-06-30T12:00:00+02:00", "2026-07-07", "2026-07-07", "Tue; Sun 5 Jul, Mon 6 hol"),
    ("2026-07-01T12:00:00+02:00", "2026-07-07", "2026-07-07", "Wed; day 5 Mon 6 Jul hol"),
    ("2027-06-30T12:00:00+02:00", "2027-07-07", "2027-07-07", "Wed; Mon 5, Tue 6 Jul hol"),
    ("2027-07-01T12:00:00+02:00", "2027-07-07", "2027-07-07", "Thu; day 5 Tue 6 Jul hol"),
    # -- 28 September
    ("2026-09-23T12:00:00+02:00", "2026-09-29", "2026-09-29", "Wed; day 5 Mon 28 Sep hol"),
    ("2027-09-23T12:00:00+02:00", "2027-09-29", "2027-09-29", "Thu; day 5 Tue 28 Sep hol"),
    ("2025-09-23T12:00:00+02:00", "2025-09-29", "2025-09-29", "Tue; day 5 Sun 28 Sep (hol)"),
    # -- 17 November
    ("2026-11-12T12:00:00+01:00", "2026-11-18", "2026-11-18", "Thu; day 5 Tue 17 Nov hol"),
    ("2027-11-12T12:00:00+01:00", "2027-11-18", "2027-11-18", "Fri; day 5 Wed 17 Nov hol"),
    # -- Christmas
    ("2026-12-19T12:00:00+01:00", "2026-12-28", "2026-12-28", "Sat; Thu 24..Sun 27 -> Mon 28"),
    ("2026-12-20T12:00:00+01:00", "2026-12-28", "2026-12-28", "Sun; Fri 25..Sun 27 -> Mon 28"),
    ("2026-12-21T12:00:00+01:00", "2026-12-28", "2026-12-28", "Mon; Sat 26, Sun 27 -> Mon 28"),
    ("2027-12-19T12:00:00+01:00", "2027-12-27", "2027-12-27", "Sun; Fri 24..Sun 26 -> Mon 27"),
    ("2025-12-19T12:00:00+01:00", "2025-12-29", "2025-12-29", "Fri; Wed 24..Sun 28 -> Mon 29"),
    ("2024-12-19T12:00:00+01:00", "2024-12-27", "2024-12-27", "Thu; Tue 24..Thu 26 -> Fri 27"),
    # -- New Year and periods that cross a year end
    ("2026-12-27T12:00:00+01:00", "2027-01-04", "2027-01-04", "Sun; Fri 1 Jan hol, Sat, Sun"),
    ("2026-12-29T12:00:00+01:00", "2027-01-04", "2027-01-04", "Tue; day 5 Sun 3 Jan -> Mon 4"),
    ("2025-12-27T12:00:00+01:00", "2026-01-02", "2026-01-02", "Sat; Thu 1 Jan hol -> Fri 2"),
    ("2025-12-31T23:30:00+01:00", "2026-01-05", "2026-01-05", "Wed 31 Dec 23:30; Mon 5 Jan"),
    ("2025-12-31T23:30:00Z", "2026-01-06", "2026-01-06", "UTC 31 Dec, Prague Thu 1 Jan 00:30"),
    ("2027-12-28T12:00:00+01:00", "2028-01-03", "2028-01-03", "Tue; day 5 Sun 2 Jan -> Mon 3"),
]


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) >= 40
    assert len({row[0] for row in TABLE}) == len(TABLE)


@pytest.mark.parametrize(("filed_at", "sr", "dr", "why"), TABLE, ids=[r[0] for r in TABLE])
def test_last_day_by_hand(filed_at: str, sr: str, dr: str, why: str) -> None:
    at = datetime.fromisoformat(filed_at)
    assert compute_deadline(at, "sr").last_day == date.fromisoformat(sr), why
    assert compute_deadline(at, "dr").last_day == date.fromisoformat(dr), why


def test_default_rules_are_sr() -> None:
    d = compute_deadline(datetime(2026, 6, 1, 10, tzinfo=UTC))
    assert d.rules == "sr"
    assert set(RULE_SETS) == {"sr", "dr"}


# -- reasons and serialisation ------------------------------------------------------------


def test_reasons_name_each_day_moved_over() -> None:
    d = compute_deadline(datetime.fromisoformat("2026-04-26T12:00:00+02:00"), "sr")
    assert d.filed_on == date(2026, 4, 26)
    assert d.nominal_last_day == date(2026, 5, 1)
    assert d.last_day == date(2026, 5, 4)
    assert d.shifted
    assert d.reasons[:3] == (
        "2026-05-01 is a public holiday (Svátek práce)",
        "2026-05-02 is a Saturday",
        "2026-05-03 is a Sunday",
    )
    assert "2026-05-04 (Monday)" in d.reasons[3]
    assert "§ 40(1)(c)" in d.reasons[3]


def test_dr_reasons_cite_the_tax_code() -> None:
    d = compute_deadline(datetime.fromisoformat("2026-12-19T12:00:00+01:00"), "dr")
    assert d.reasons[0] == "2026-12-24 is a public holiday (Štědrý den)"
    assert "§ 33(4)" in d.reasons[-1]
    assert "§ 71(3)" in d.summary()


def test_no_reasons_when_day_five_is_a_working_day() -> None:
    d = compute_deadline(datetime.fromisoformat("2026-06-04T10:00:00+02:00"))
    assert d.reasons == ()
    assert not d.shifted


def test_to_dict_is_json_and_round_trips() -> None:
    d = compute_deadline(datetime.fromisoformat("2026-10-23T10:00:00+02:00"), "dr")
    data = json.loads(json.dumps(d.to_dict()))
    assert data["filed_on"] == "2026-10-23"
    assert data["last_day"] == "2026-10-29"
    assert data["rules"] == "dr"
    assert data["reasons"][0] == (
        "2026-10-28 is a public holiday (Den vzniku samostatného československého státu)"
    )
    assert data["extendable"] is False
    assert Deadline.from_dict(data) == d


def test_summary_explains_the_counting() -> None:
    text = compute_deadline(datetime.fromisoformat("2026-05-03T12:00:00+02:00")).summary()
    assert "Day 1 is 2026-05-04 (Monday); day 5 is 2026-05-08 (Friday)" in text
    assert "2026-05-08 is a public holiday (Den vítězství)" in text
    assert "Last day: 2026-05-11 (Monday)" in text


# -- refused input ------------------------------------------------------------------------


def test_naive_time_is_refused() -> None:
    with pytest.raises(NaiveTimeError) as exc:
        compute_deadline(datetime(2026, 6, 1, 10, 0))
    assert exc.value.code == "deadline_naive_time"
    assert isinstance(exc.value, DeadlineError)


def test_a_date_is_not_a_time() -> None:
    with pytest.raises(NaiveTimeError):
        filing_day(date(2026, 6, 1))  # type: ignore[arg-type]


def test_unknown_rules_have_a_stable_code() -> None:
    with pytest.raises(UnknownRuleSetError) as exc:
        compute_deadline(datetime(2026, 6, 1, 10, tzinfo=UTC), "civil")
    assert exc.value.code == "deadline_unknown_rules"
    assert "'civil'" in str(exc.value) and "dr, sr" in str(exc.value)


# -- the calendar -------------------------------------------------------------------------


def test_czech_holidays_2026() -> None:
    assert list(holidays_in(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 7, 5),
        date(2026, 7, 6),
        date(2026, 9, 28),
        date(2026, 10, 28),
        date(2026, 11, 17),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]


@pytest.mark.parametrize(
    ("good_friday", "easter_monday"),
    [
        (date(2016, 3, 25), date(2016, 3, 28)),
        (date(2024, 3, 29), date(2024, 4, 1)),
        (date(2025, 4, 18), date(2025, 4, 21)),
        (date(2026, 4, 3), date(2026, 4, 6)),
        (date(2027, 3, 26), date(2027, 3, 29)),
    ],
)
def test_easter_holidays(good_friday: date, easter_monday: date) -> None:
    assert holiday_name(good_friday) == "Velký pátek"
    assert holiday_name(easter_monday) == "Velikonoční pondělí"
    assert not is_working_day(good_friday)
    assert not is_working_day(easter_monday)


def test_good_friday_is_a_holiday_only_since_2016() -> None:
    assert holiday_name(date(2015, 4, 3)) is None
    assert is_working_day(date(2015, 4, 3))
    assert holiday_name(date(2015, 4, 6)) == "Velikonoční pondělí"


def test_working_days() -> None:
    assert is_working_day(date(2026, 6, 1))  # Monday
    assert is_working_day(date(2026, 6, 5))  # Friday
    assert not is_working_day(date(2026, 6, 6))  # Saturday
    assert not is_working_day(date(2026, 6, 7))  # Sunday
    assert not is_working_day(date(2026, 11, 17))  # Tuesday, holiday


# -- confirmations and the days of the period ---------------------------------------------

# filed Sun 26 Apr 2026; day 5 is Fri 1 May (holiday); the last day is Mon 4 May
MAY = compute_deadline(datetime.fromisoformat("2026-04-26T12:00:00+02:00"))


def test_posted_on_the_last_day_is_in_time_even_if_it_arrives_later() -> None:
    assert confirmation_in_time(MAY, posted_on=date(2026, 5, 4), received_on=date(2026, 5, 6))


def test_posted_on_a_shifted_day_is_in_time() -> None:
    # the nominal day 5 (1 May) has passed, but the period runs until Monday
    assert confirmation_in_time(MAY, posted_on=date(2026, 5, 2))


def test_posted_the_day_after_is_late() -> None:
    assert not confirmation_in_time(MAY, posted_on=date(2026, 5, 5))
    assert not confirmation_in_time(MAY, posted_on=date(2026, 5, 5), received_on=date(2026, 5, 6))


def test_received_in_person() -> None:
    assert confirmation_in_time(MAY, received_on=date(2026, 5, 4))
    assert confirmation_in_time(MAY, received_on=date(2026, 4, 27))
    assert not confirmation_in_time(MAY, received_on=date(2026, 5, 5))


def test_a_confirmation_needs_a_date() -> None:
    with pytest.raises(ConfirmationDateMissingError) as exc:
        confirmation_in_time(MAY)
    assert exc.value.code == "deadline_confirmation_date_missing"


def test_day_of_period_and_days_left() -> None:
    assert day_of_period(MAY, date(2026, 4, 26)) == 0
    assert day_of_period(MAY, date(2026, 4, 27)) == 1
    assert day_of_period(MAY, date(2026, 5, 1)) == 5
    assert day_of_period(MAY, date(2026, 5, 4)) == 8
    assert days_left(MAY, date(2026, 4, 27)) == 7
    assert days_left(MAY, date(2026, 5, 4)) == 0
    assert days_left(MAY, date(2026, 5, 5)) == -1


def test_reminder_on_day_five_waits_for_the_real_last_day() -> None:
    days = (3, 5)
    assert is_reminder_day(MAY, date(2026, 4, 29), days)  # day 3
    assert not is_reminder_day(MAY, date(2026, 5, 1), days)  # nominal day 5, a holiday
    assert is_reminder_day(MAY, date(2026, 5, 4), days)  # the last day
    assert not is_reminder_day(MAY, date(2026, 5, 5), days)
    with pytest.raises(DeadlineError):
        is_reminder_day(MAY, date(2026, 5, 4), (0,))


# -- properties ---------------------------------------------------------------------------

_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)


@given(at=_moments, rules=st.sampled_from(sorted(RULE_SETS)))
def test_last_day_properties(at: datetime, rules: str) -> None:
    d = compute_deadline(at, rules)
    assert is_working_day(d.last_day)
    assert d.last_day >= d.filed_on + timedelta(days=5)
    assert d.last_day < d.filed_on + timedelta(days=5 + 10)
    assert d.nominal_last_day == d.filed_on + timedelta(days=5)
    # every day skipped over is named, and nothing else
    assert len(d.reasons) == (0 if not d.shifted else (d.last_day - d.nominal_last_day).days + 1)
    assert abs((d.filed_on - at.date()).days) <= 1


@given(at=_moments)
def test_sr_and_dr_agree(at: datetime) -> None:
    assert compute_deadline(at, "sr").last_day == compute_deadline(at, "dr").last_day


# -- the command line ---------------------------------------------------------------------


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["deadline", "--filed-at", "2026-04-26T12:00:00+02:00", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "filed_on": "2026-04-26",
        "last_day": "2026-05-04",
        "rules": "sr",
        "reasons": [
            "2026-05-01 is a public holiday (Svátek práce)",
            "2026-05-02 is a Saturday",
            "2026-05-03 is a Sunday",
            "so the last day moves to the next working day, 2026-05-04 (Monday) (§ 40(1)(c))",
        ],
    }


def test_cli_naive_time_is_prague_local(capsys: pytest.CaptureFixture[str]) -> None:
    # 00:30 on 1 Jan 2026 in Prague (it would be 31 Dec in UTC)
    assert cli_main(["deadline", "--filed-at", "2026-01-01T00:30", "--rules", "dr", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["filed_on"], data["last_day"], data["rules"]) == ("2026-01-01", "2026-01-06", "dr")


def test_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["deadline", "--filed-at", "2026-12-19T12:00:00+01:00"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Last day: 2026-12-28 (Monday)"
    assert "2026-12-24 is a public holiday (Štědrý den)" in out


def test_cli_invalid_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["deadline", "--filed-at", "yesterday"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "'yesterday'" in err and "[deadline_invalid_time]" in err
