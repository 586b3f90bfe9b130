"""Czech texts of the notices (plain text, UTF-8).

``render_notice(kind, to=..., context=...)`` builds a :class:`Notice` from a context mapping whose
values may come from JSON (a task message): dates as ``date`` or ``"YYYY-MM-DD"``, times as aware
``datetime`` or ISO 8601 with an offset. Dates are printed the Czech way (``30. 11. 2026``), times
in Europe/Prague. Values from the context are inserted as text, never interpreted.

Context keys, by kind (``*`` required):

- every kind: ``reference`` (* except ``rejected``), ``submission_id``, ``office_name``,
  ``office_address``, ``portal_url``
- ``accepted``: ``received_at`` *, ``confirmation_needed`` (bool), ``deadline`` (* if needed)
- ``reminder``: ``deadline`` *, ``days_left`` * (0 on the last day)
- ``confirmed``: ``how`` * (one of :data:`CONFIRMATION_METHODS`), ``date`` (* for ``posted``
  and ``received``), ``linked_reference`` (for ``resubmitted_signed`` and ``data_box``)
- ``lapsed``: ``deadline`` *, ``rules`` (``sr`` or ``dr``: cites the statute)
- ``receipt_issued``: ``download_url`` *, ``expires_at``
- ``rejected``: ``reasons`` * (non-empty list of sentences), ``received_at``
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from podatelna.notifications.errors import NoticeContextError, UnknownNoticeKindError
from podatelna.notifications.notice import KINDS, Notice, message_id_for

PRAGUE = ZoneInfo("Europe/Prague")
WEEKDAYS_CS = ("pondělí", "úterý", "středa", "čtvrtek", "pátek", "sobota", "neděle")

#: how a filing was confirmed -> the Czech phrase ("bylo potvrzeno ...")
CONFIRMATION_METHODS = {
    "posted": "vlastnoručně podepsaným stejnopisem, který jste podali na poště dne {date}",
    "received": "vlastnoručně podepsaným stejnopisem, který byl doručen na podatelnu dne {date}",
    "resubmitted_signed": "opakovaným podáním podepsaným uznávaným elektronickým podpisem{linked}",
    "data_box": "opakovaným podáním z Vaší datové schránky{linked}",
}

_LAPSE_LAW = {
    "sr": "Podle § 37 odst. 4 správního řádu se úřad podáním nebude zabývat.",
    "dr": "Podle § 71 odst. 3 daňového řádu se k podání nepřihlíží.",
}

_FOOTER = "Tato zpráva byla odeslána automaticky, neodpovídejte na ni prosím."


# -- formatting -----------------------------------------------------------------------------


def czech_date(d: date) -> str:
    """``30. 11. 2026``"""
    return f"{d.day}. {d.month}. {d.year}"


def czech_date_long(d: date) -> str:
    """``30. 11. 2026 (pondělí)``"""
    return f"{czech_date(d)} ({WEEKDAYS_CS[d.weekday()]})"


def czech_time(at: datetime) -> str:
    """``30. 11. 2026 v 14:05`` in Europe/Prague."""
    local = at.astimezone(PRAGUE)
    return f"{czech_date(local.date())} v {local.hour}:{local.minute:02d}"


def days_left_phrase(n: int) -> str:
    """``zbývá 1 den``, ``zbývají 3 dny``, ``zbývá 5 dní``; ``dnes je poslední den lhůty``."""
    if n == 0:
        return "dnes je poslední den lhůty"
    if n == 1:
        return "zbývá 1 den"
    if 2 <= n <= 4:
        return f"zbývají {n} dny"
    return f"zbývá {n} dní"


# -- reading the context --------------------------------------------------------------------


class _Context:
    def __init__(self, kind: str, values: Mapping[str, object]) -> None:
        self.kind = kind
        self.values = values

    def _fail(self, key: str, what: str) -> NoticeContextError:
        return NoticeContextError(f"The {self.kind!r} notice needs {key!r} {what}.")

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.values.get(key)
        if value is None or value == "":
            if required:
                raise self._fail(key, "(a non-empty text)")
            return default
        if not isinstance(value, str | int):
            raise self._fail(key, f"as a text, not {type(value).__name__}")
        return str(value)

    def day(self, key: str, *, required: bool = True) -> date | None:
        value = self.values.get(key)
        if value is None:
            if required:
                raise self._fail(key, "(a date)")
            return None
        if isinstance(value, datetime):
            raise self._fail(key, "as a date, not a datetime")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self._fail(key, f"as a date (YYYY-MM-DD), not {value!r}")

    def moment(self, key: str, *, required: bool = True) -> datetime | None:
        value = self.values.get(key)
        if value is None:
            if required:
                raise self._fail(key, "(an aware datetime)")
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise self._fail(key, f"as an ISO 8601 time, not {value!r}") from None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise self._fail(key, f"as a datetime with a time zone, not {value!r}")
        return value

    def integer(self, key: str) -> int:
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "(a whole number)")
        return value

    def flag(self, key: str) -> bool:
        value = self.values.get(key, False)
        if not isinstance(value, bool):
            raise self._fail(key, "as true or false")
        return value


def _required_day(ctx: _Context, key: str) -> date:
    d = ctx.day(key)
    assert d is not None  # day() raises when a required value is missing
    return d


def _required_moment(ctx: _Context, key: str) -> datetime:
    m = ctx.moment(key)
    assert m is not None  # moment() raises when a required value is missing
    return m


# -- the texts ------------------------------------------------------------------------------


def _how_to_confirm(ctx: _Context, reference: str) -> list[str]:
    address = ctx.text("office_address", required=False)
    post = f"na adresu {address}" if address else "na adresu úřadu"
    return [
        "Podání můžete potvrdit jedním z těchto způsobů:",
        f" – pošlete vlastnoručně podepsaný stejnopis podání poštou {post}; lhůta je "
        "zachována, pokud zásilku podáte na poště nejpozději poslední den lhůty,",
        " – přineste vlastnoručně podepsaný stejnopis podání osobně na podatelnu úřadu "
        "nejpozději poslední den lhůty,",
        " – pošlete podání znovu, podepsané uznávaným elektronickým podpisem, a uveďte v něm "
        f"evidenční číslo {reference},",
        " – pošlete podání znovu ze své datové schránky a uveďte v něm evidenční číslo "
        f"{reference}.",
    ]


def _accepted(ctx: _Context) -> tuple[str, list[str]]:
    ref = ctx.text("reference")
    received = _required_moment(ctx, "received_at")
    lines = [
        "Vaše podání bylo přijato a zaevidováno.",
        "",
        f"Evidenční číslo: {ref}",
        f"Přijato: {czech_time(received)}",
        "",
    ]
    if ctx.flag("confirmation_needed"):
        deadline = _required_day(ctx, "deadline")
        subject = f"Podání {ref} bylo přijato – potvrďte je do {czech_date(deadline)}"
        lines += [
            "Podání nebylo podepsáno uznávaným elektronickým podpisem ani odesláno z datové "
            "schránky. Aby bylo platné, musíte je do 5 dnů potvrdit. Poslední den lhůty je "
            f"{czech_date_long(deadline)}. Pokud podání v této lhůtě nepotvrdíte, úřad se jím "
            "nebude zabývat.",
            "",
            *_how_to_confirm(ctx, ref),
        ]
    else:
        subject = f"Podání {ref} bylo přijato"
        lines.append("Podání není třeba dále potvrzovat.")
    return subject, lines


def _reminder(ctx: _Context) -> tuple[str, list[str]]:
    ref = ctx.text("reference")
    deadline = _required_day(ctx, "deadline")
    left = ctx.integer("days_left")
    if left < 0:
        raise NoticeContextError(
            f"The 'reminder' notice for {ref} has days_left={left}: the period is over; send "
            "the 'lapsed' notice instead."
        )
    lines = [
        f"připomínáme, že Vaše podání s evidenčním číslem {ref} dosud nebylo potvrzeno. Lhůta "
        f"k potvrzení končí {czech_date_long(deadline)}; {days_left_phrase(left)}. Pokud podání "
        "v této lhůtě nepotvrdíte, úřad se jím nebude zabývat.",
        "",
        *_how_to_confirm(ctx, ref),
    ]
    return f"Připomínka: potvrďte podání {ref} do {czech_date(deadline)}", lines


def _confirmed(ctx: _Context) -> tuple[str, list[str]]:
    ref = ctx.text("reference")
    how = ctx.text("how")
    if how not in CONFIRMATION_METHODS:
        raise NoticeContextError(
            f"The 'confirmed' notice for {ref} has how={how!r}; known: "
            f"{', '.join(CONFIRMATION_METHODS)}."
        )
    on = ctx.day("date", required=how in ("posted", "received"))
    linked = ctx.text("linked_reference", required=False)
    phrase = CONFIRMATION_METHODS[how].format(
        date=czech_date(on) if on else "",
        linked=f" (evidenční číslo {linked})" if linked else "",
    )
    lines = [
        f"Vaše podání s evidenčním číslem {ref} bylo potvrzeno {phrase}. "
        "Úřad se jím bude dále zabývat.",
    ]
    return f"Podání {ref} bylo potvrzeno", lines


def _lapsed(ctx: _Context) -> tuple[str, list[str]]:
    ref = ctx.text("reference")
    deadline = _required_day(ctx, "deadline")
    rules = ctx.text("rules", required=False)
    if rules and rules not in _LAPSE_LAW:
        raise NoticeContextError(f"The 'lapsed' notice has rules={rules!r}; known: sr, dr.")
    law = _LAPSE_LAW.get(rules, "Úřad se proto podáním nebude zabývat.")
    lines = [
        f"lhůta k potvrzení Vašeho podání s evidenčním číslem {ref} uplynula dne "
        f"{czech_date(deadline)}, aniž bylo podání potvrzeno. {law}",
        "",
        "Chcete-li, aby úřad věc projednal, pošlete podání znovu, podepsané uznávaným "
        "elektronickým podpisem nebo ze své datové schránky, případně je doručte v listinné "
        "podobě s vlastnoručním podpisem.",
    ]
    return f"Podání {ref} nebylo včas potvrzeno", lines


def _receipt_issued(ctx: _Context) -> tuple[str, list[str]]:
    ref = ctx.text("reference")
    url = ctx.text("download_url")
    expires = ctx.moment("expires_at", required=False)
    lines = [
        f"potvrzení o přijetí Vašeho podání s evidenčním číslem {ref} je připraveno. "
        "Stáhnout je můžete zde:",
        "",
        url,
    ]
    if expires is not None:
        lines += ["", f"Odkaz platí do {czech_time(expires)}."]
    portal = ctx.text("portal_url", required=False)
    if portal:
        lines.append(f"Potvrzení najdete i mezi svými podáními na portálu {portal}.")
    return f"Potvrzení o přijetí podání {ref}", lines


def _rejected(ctx: _Context) -> tuple[str, list[str]]:
    ref = ctx.text("reference", required=False)
    reasons = ctx.values.get("reasons")
    if (
        not isinstance(reasons, list | tuple)
        or not reasons
        or not all(isinstance(r, str) and r.strip() for r in reasons)
    ):
        raise NoticeContextError("The 'rejected' notice needs 'reasons' (a list of sentences).")
    received = ctx.moment("received_at", required=False)
    what = "Vaše podání"
    if received is not None:
        what += f" ze dne {czech_time(received)}"
    if ref:
        what += f" (evidenční číslo {ref})"
    lines = [
        f"{what} nebylo přijato z těchto důvodů:",
        "",
        *(f" – {r.strip()}" for r in reasons),
        "",
        "Opravte prosím uvedené nedostatky a pošlete podání znovu.",
    ]
    return (f"Podání {ref} nebylo přijato" if ref else "Podání nebylo přijato"), lines


def _verify_email(ctx: _Context) -> tuple[str, list[str]]:
    url = ctx.text("link")
    hours = ctx.text("valid_hours")
    lines = [
        "pro dokončení registrace na portálu podatelny (nebo změny e-mailové adresy) potvrďte "
        "prosím svou e-mailovou adresu otevřením tohoto odkazu:",
        "",
        url,
        "",
        f"Odkaz platí {hours} h a lze jej použít jen jednou. Pokud jste o nic nežádali, "
        "zprávu prosím ignorujte.",
    ]
    return "Potvrzení e-mailové adresy", lines


def _account_exists(ctx: _Context) -> tuple[str, list[str]]:
    url = ctx.text("reset_link")
    lines = [
        "někdo (možná Vy) se pokusil na portálu podatelny zaregistrovat s touto e-mailovou "
        "adresou, k níž už účet máte. Nový účet jsme nezaložili.",
        "",
        "Pokud jste to byli Vy, přihlaste se svým heslem; pokud jste heslo zapomněli, nové si "
        "nastavíte zde:",
        "",
        url,
        "",
        "Pokud jste se registrovat nepokoušeli, zprávu prosím ignorujte; Váš účet zůstal beze "
        "změny.",
    ]
    return "Pokus o registraci s Vaší adresou", lines


def _password_reset(ctx: _Context) -> tuple[str, list[str]]:
    url = ctx.text("link")
    minutes = ctx.text("valid_minutes")
    lines = [
        "požádali jste o nastavení nového hesla k účtu na portálu podatelny. Nové heslo si "
        "zvolíte po otevření tohoto odkazu:",
        "",
        url,
        "",
        f"Odkaz platí {minutes} minut a lze jej použít jen jednou. Heslo Vám e-mailem nikdy "
        "nepošleme. Pokud jste o nové heslo nežádali, zprávu prosím ignorujte.",
    ]
    return "Nastavení nového hesla", lines


_RENDERERS: dict[str, Callable[[_Context], tuple[str, list[str]]]] = {
    "accepted": _accepted,
    "reminder": _reminder,
    "confirmed": _confirmed,
    "lapsed": _lapsed,
    "receipt_issued": _receipt_issued,
    "rejected": _rejected,
    "verify_email": _verify_email,
    "password_reset": _password_reset,
    "account_exists": _account_exists,
}
assert set(_RENDERERS) == set(KINDS)


def render_notice(
    kind: str,
    *,
    to: str,
    context: Mapping[str, object],
    idempotency_key: str | None = None,
) -> Notice:
    """The Czech notice of ``kind`` for ``to``.

    ``idempotency_key`` (e.g. ``"reminder:<submission id>:3"``) fixes the Message-ID, so the same
    notice rendered again - by a retried task - is recognisably the same message.
    """
    renderer = _RENDERERS.get(kind)
    if renderer is None:
        raise UnknownNoticeKindError(
            f"There is no notice kind {kind!r}; known: {', '.join(KINDS)}."
        )
    ctx = _Context(kind, context)
    subject, lines = renderer(ctx)
    office = ctx.text("office_name", required=False, default="Podatelna")
    greeting = "Dobrý den,"
    body_lines = [greeting, "", *lines, "", "S pozdravem", office]
    address = ctx.text("office_address", required=False)
    if address:
        body_lines.append(address)
    body_lines += ["", "-- ", _FOOTER]
    body = "\n".join(body_lines) + "\n"
    headers: tuple[tuple[str, str], ...] = ()
    if idempotency_key:
        headers = (("Message-ID", message_id_for(idempotency_key)),)
    return Notice(
        to=to,
        subject=subject,
        body=body,
        kind=kind,
        reference=ctx.text("reference", required=False),
        submission_id=ctx.text("submission_id", required=False),
        headers=headers,
    )
