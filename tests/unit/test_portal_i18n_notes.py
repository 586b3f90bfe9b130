"""History notes: the system's English notes are worded in Czech on Czech pages."""

from __future__ import annotations

import pytest

from podatelna.web.i18n import words_for_note


@pytest.mark.parametrize(
    ("note", "czech"),
    [
        (
            "reference number MMO/00001/2026; confirmation needed by 2026-11-30",
            "evidenční číslo MMO/00001/2026; potvrdit je třeba do 30. 11. 2026",
        ),
        ("reference number MMO/00007/2026", "evidenční číslo MMO/00007/2026"),
        ("form and attachments valid", "formulář a přílohy jsou v pořádku"),
        ("3 problem(s) found", "nalezené problémy: 3"),
        (
            "not confirmed by the last day of the period, 2026-03-09",
            "nepotvrzeno do posledního dne lhůty, 9. 3. 2026",
        ),
        ("linked re-filing MMO/00002/2026", "potvrzeno opakovaným podáním MMO/00002/2026"),
        ("receipts/2026/MMO-00001-2026.pdf", ""),
        ("something a clerk wrote", "something a clerk wrote"),
    ],
)
def test_system_notes_in_czech(note: str, czech: str) -> None:
    assert words_for_note("cs", note) == czech
    assert words_for_note("en", note) == note


def test_a_persons_note_is_shown_as_written() -> None:
    assert words_for_note("cs", "reference number X", actor="novak@mmo.cz") == "reference number X"
