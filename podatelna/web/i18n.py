"""The portal's words in Czech (the default) and English.

One table, keyed by a short name; a page asks ``t("key")``. A missing English text falls back to
the Czech one, a missing key is an error in the tests (``test_portal_pages`` renders every page
in both languages), never a blank on a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

LANGUAGES = ("cs", "en")
DEFAULT_LANGUAGE = "cs"

TEXTS: dict[str, tuple[str, str]] = {
    # layout
    "site_name": ("Elektronická podatelna", "Electronic filing office"),
    "skip": ("Přeskočit na obsah", "Skip to content"),
    "nav_home": ("Úvod", "Home"),
    "nav_forms": ("Formuláře", "Forms"),
    "nav_verify": ("Ověřit potvrzení", "Verify a receipt"),
    "nav_state": ("Stav systému", "System state"),
    "nav_send": ("Podat", "Send a form"),
    "nav_mine": ("Moje podání", "My filings"),
    "nav_data": ("Moje údaje", "My data"),
    "nav_account": ("Účet", "Account"),
    "nav_journal": ("Podací deník", "Journal"),
    "nav_awaiting": ("Čeká na potvrzení", "Awaiting confirmation"),
    "nav_rejected": ("Odmítnutá podání", "Rejected submissions"),
    "nav_login": ("Přihlásit", "Log in"),
    "nav_register": ("Registrace", "Register"),
    "nav_logout": ("Odhlásit", "Log out"),
    "other_language": ("English", "Česky"),
    "signed_in_as": ("Přihlášen(a):", "Signed in:"),
    # home
    "home_title": ("Elektronická podatelna", "Electronic filing office"),
    "home_intro": (
        "Zde můžete podat formulář úřadu, sledovat svá podání a stáhnout si potvrzení o přijetí.",
        "Here you can send a form to the authority, follow your filings and download receipts.",
    ),
    # forms catalogue
    "forms_title": ("Formuláře", "Forms"),
    "forms_intro": (
        "Prázdný formulář si stáhněte, vyplňte a pošlete na stránce Podat.",
        "Download a blank form, fill it in and send it on the page Send a form.",
    ),
    "form_name": ("Formulář", "Form"),
    "form_version": ("Verze", "Version"),
    "form_signature": ("Podpis", "Signature"),
    "form_unsigned_ok": (
        "lze podat i bez podpisu (potvrzení do 5 dnů)",
        "may be sent unsigned (confirm within 5 days)",
    ),
    "form_signature_required": ("vyžaduje uznávaný podpis", "needs a recognised signature"),
    "form_blank": ("Prázdný formulář (XML)", "Blank form (XML)"),
    "form_xsd": ("Schéma (XSD)", "Schema (XSD)"),
    # verification of receipts
    "verify_title": ("Ověření potvrzení o přijetí", "Verify a receipt"),
    "verify_intro": (
        "Zadejte ověřovací kód z potvrzení (nebo načtěte jeho QR kód).",
        "Enter the verification code printed on the receipt (or scan its QR code).",
    ),
    "verify_code": ("Ověřovací kód", "Verification code"),
    "verify_button": ("Ověřit", "Verify"),
    "verify_found": (
        "Potvrzení s tímto kódem vydal tento úřad.",
        "A receipt with this code was issued by this office.",
    ),
    "verify_not_found": (
        "Potvrzení s tímto kódem neexistuje.",
        "No receipt with this code exists.",
    ),
    "received_at": ("Přijato", "Received"),
    "issued_at": ("Potvrzení vydáno", "Receipt issued"),
    "files": ("Soubory", "Files"),
    "file_name": ("Název", "Name"),
    "file_size": ("Velikost (B)", "Size (bytes)"),
    "sha256": ("SHA-256", "SHA-256"),
    # system state
    "state_title": ("Stav systému", "System state"),
    "state_checks": ("Kontroly", "Checks"),
    "state_check": ("Část systému", "Component"),
    "state_result": ("Výsledek", "Result"),
    "state_ok": ("v pořádku", "working"),
    "state_failing": ("nefunguje", "failing"),
    "state_load": ("Zatížení", "Load"),
    "state_in_progress": ("Zpracovávaná podání", "Submissions being processed"),
    "state_awaiting_timestamp": ("Čeká na časové razítko", "Waiting for a timestamp"),
    "state_awaiting_receipt": ("Čeká na potvrzení o přijetí", "Waiting for a receipt"),
    "state_queue": ("Fronta", "Queue"),
    "q_validate": ("kontrola formulářů", "form checks"),
    "q_verify": ("ověření podpisů", "signature verification"),
    "q_register": ("evidence a čísla jednací", "registration"),
    "q_receipt": ("potvrzení o přijetí", "receipts"),
    "q_notify": ("oznámení odesílatelům", "notices to senders"),
    "q_reject_notice": ("oznámení o odmítnutí", "rejection notices"),
    "state_checked_at": ("Zjištěno", "Checked at"),
    "state_unknown": (
        "nelze zjistit (databáze neodpovídá)",
        "unknown (the database does not answer)",
    ),
    "check_database": ("Databáze", "Database"),
    "check_broker": ("Fronta zpráv", "Message broker"),
    "check_object_store": ("Úložiště dokumentů", "Document store"),
    "check_timestamp": ("Časová razítka", "Timestamps"),
    # accounts
    "register_title": ("Registrace", "Register"),
    "first_name": ("Jméno", "First name"),
    "surname": ("Příjmení", "Surname"),
    "email": ("E-mail", "E-mail"),
    "password": ("Heslo", "Password"),
    "password_again": ("Heslo znovu", "Password again"),
    "password_rules": (
        "Nejméně 8 znaků, alespoň jedna číslice, jedno velké a jedno malé písmeno.",
        "At least 8 characters, with a digit, an upper-case and a lower-case letter.",
    ),
    "passwords_differ": ("Hesla se neshodují.", "The passwords differ."),
    "register_button": ("Zaregistrovat", "Register"),
    "register_done": (
        "Účet je založen. Na Váš e-mail jsme poslali odkaz k jeho ověření; podávat můžete po "
        "ověření.",
        "The account is created. We sent a link to your e-mail to verify it; you can file once "
        "it is verified.",
    ),
    "email_verified": ("E-mailová adresa je ověřena.", "The e-mail address is verified."),
    "verify_email_needed": (
        "Před prvním podáním ověřte svou e-mailovou adresu odkazem, který jsme Vám poslali.",
        "Before your first filing, verify your e-mail address by the link we sent you.",
    ),
    "resend_verification": ("Poslat odkaz znovu", "Send the link again"),
    "verification_sent": ("Odkaz jsme poslali znovu.", "We sent the link again."),
    "login_title": ("Přihlášení", "Log in"),
    "login_button": ("Přihlásit", "Log in"),
    "forgot_password": ("Zapomenuté heslo", "Forgot password"),
    "logged_out": ("Byli jste odhlášeni.", "You are logged out."),
    "login_needed": ("Pro tuto stránku se přihlaste.", "Log in to see this page."),
    "reset_title": ("Nové heslo", "New password"),
    "reset_intro": (
        "Zadejte e-mail svého účtu; pošleme na něj odkaz pro nastavení nového hesla.",
        "Enter your account's e-mail; we send a link to set a new password to it.",
    ),
    "reset_send": ("Poslat odkaz", "Send the link"),
    "reset_sent": (
        "Pokud k adrese existuje účet, poslali jsme na ni odkaz. Platí omezenou dobu a jen jednou.",
        "If an account has this address, we sent a link to it. It works for a limited time, "
        "and once.",
    ),
    "new_password": ("Nové heslo", "New password"),
    "reset_button": ("Nastavit heslo", "Set the password"),
    "reset_done": (
        "Heslo je změněno. Přihlaste se novým heslem.",
        "The password is changed. Log in with the new password.",
    ),
    "link_invalid": (
        "Odkaz neplatí: neznáme jej, byl již použit nebo vypršel. Požádejte o nový.",
        "This link is not valid: unknown, used already or expired. Ask for a new one.",
    ),
    "csrf_failed": (
        "Formulář vypršel nebo nepochází z této stránky. Načtěte stránku znovu a zkuste to "
        "ještě jednou.",
        "The form has expired or did not come from this site. Reload the page and try again.",
    ),
    # send
    "send_title": ("Podat formulář", "Send a form"),
    "send_form_type": ("Druh formuláře", "Form type"),
    "send_form_type_any": ("(podle obsahu souboru)", "(from the file's content)"),
    "send_form_file": ("Formulář (soubor XML)", "Form (XML file)"),
    "send_attachments": ("Přílohy", "Attachments"),
    "send_signatures": (
        "Soubory s podpisem (nepovinné, např. .p7s)",
        "Signature files (optional, e.g. .p7s)",
    ),
    "send_confirms": (
        "Potvrzuje dřívější podání č. j. (nepovinné)",
        "Confirms an earlier filing, reference (optional)",
    ),
    "send_button": ("Odeslat podání", "Send"),
    "send_errors": (
        "Formulář nelze podat, opravte prosím tyto chyby:",
        "The form cannot be sent; please correct these errors:",
    ),
    "send_type_mismatch": (
        "Soubor obsahuje jiný formulář, než jste vybrali.",
        "The file holds another form than the one you chose.",
    ),
    "send_no_file": ("Vyberte soubor s formulářem.", "Choose the form's file."),
    "fill_intro": (
        "Vyplňte formulář přímo zde; pole označená * jsou povinná. Před odesláním jej "
        "zkontrolujeme podle schématu.",
        "Fill in the form here; fields marked * are required. It is checked against its schema "
        "before it is sent.",
    ),
    "fill_online": ("Vyplnit online", "Fill in online"),
    "sent": (
        "Podání bylo přijato ke zpracování. Evidenční číslo dostane během chvíle.",
        "The submission was accepted for processing. It gets its reference number shortly.",
    ),
    "line": ("řádek", "line"),
    "column": ("sloupec", "column"),
    # my filings
    "mine_title": ("Moje podání", "My filings"),
    "mine_empty": ("Zatím jste nic nepodali.", "You have not sent anything yet."),
    "sent_at": ("Odesláno", "Sent"),
    "office": ("Úřad", "Office"),
    "reference": ("Číslo jednací", "Reference number"),
    "status": ("Stav", "Status"),
    "deadline": ("Potvrdit do", "Confirm by"),
    "documents": ("Dokumenty", "Documents"),
    "receipt": ("Potvrzení", "Receipt"),
    "copy": ("Opis", "Copy"),
    "detail": ("Podrobnosti", "Details"),
    "pending": ("zpracovává se", "being processed"),
    "subject": ("Věc", "Subject"),
    "channel": ("Kanál", "Channel"),
    "signatures": ("Podpisy", "Signatures"),
    "history": ("Historie", "History"),
    "when": ("Kdy", "When"),
    "note": ("Poznámka", "Note"),
    "reasons": ("Důvody odmítnutí", "Reasons for rejection"),
    "content": ("Obsah", "Content"),
    "content_contract": (
        "Obsah podání mohou otevřít uživatelé se smlouvou.",
        "Users with a contract may open the content of their filings.",
    ),
    "open": ("Otevřít", "Open"),
    "refresh_note": (
        "Stránka se obnovuje, dokud zpracování neskončí.",
        "This page refreshes until the processing is over.",
    ),
    # my data
    "data_title": ("Moje údaje", "My data"),
    "data_intro": (
        "Výpis všech údajů, které o Vás úřad vede (podání, záznamy, auditní stopa), opatřený "
        "elektronickou pečetí.",
        "An export of everything the office holds about you (submissions, records, audit "
        "trail), sealed electronically.",
    ),
    "export_button": ("Vytvořit výpis", "Create the export"),
    "export_ready": (
        "Výpis je připraven. Odkazy platí omezenou dobu:",
        "The export is ready. The links work for a limited time:",
    ),
    "export_pdf": ("Výpis (PDF s pečetí)", "Export (sealed PDF)"),
    "export_json": ("Data (JSON)", "Data (JSON)"),
    "audit_title": ("Záznamy o mých úkonech", "Records of my acts"),
    "action": ("Úkon", "Act"),
    "actor": ("Kdo", "Who"),
    # account
    "account_title": ("Nastavení účtu", "Account settings"),
    "role": ("Role", "Role"),
    "change_password": ("Změnit heslo", "Change the password"),
    "current_password": ("Současné heslo", "Current password"),
    "password_changed": ("Heslo je změněno.", "The password is changed."),
    "change_email": ("Změnit e-mail", "Change the e-mail"),
    "new_email": ("Nový e-mail", "New e-mail"),
    "email_change_sent": (
        "Na novou adresu jsme poslali ověřovací odkaz; změna platí po jeho otevření.",
        "We sent a link to the new address; the change takes effect when it is opened.",
    ),
    "delete_account": ("Zrušit účet", "Delete the account"),
    "delete_note": (
        "Osobní údaje vymažeme nejpozději do 30 dnů. Podání zůstávají v podacím deníku, jak "
        "ukládá zákon o archivnictví a spisové službě.",
        "Your personal data is erased within 30 days. Filings stay in the journal, as records "
        "law requires.",
    ),
    "delete_button": ("Zrušit účet natrvalo", "Delete the account for good"),
    "account_deleted": ("Účet byl zrušen.", "The account is deleted."),
    "save": ("Uložit", "Save"),
    # clerk
    "journal_title": ("Podací deník", "Filing journal"),
    "filter": ("Filtrovat", "Filter"),
    "date_from": ("Od", "From"),
    "date_to": ("Do", "To"),
    "any": ("(vše)", "(any)"),
    "sender": ("Odesílatel", "Sender"),
    "awaiting_title": ("Podání čekající na potvrzení", "Filings awaiting confirmation"),
    "awaiting_empty": ("Žádné podání nečeká na potvrzení.", "No filing awaits confirmation."),
    "days_left": ("Zbývá dní", "Days left"),
    "confirm_how": ("Způsob", "How"),
    "how_posted": ("podáno na poště dne", "posted on"),
    "how_received": ("doručeno dne", "received on"),
    "confirm_on": ("Datum", "Date"),
    "confirm_button": ("Zaznamenat potvrzení", "Record the confirmation"),
    "confirmed": ("Potvrzení je zaznamenáno.", "The confirmation is recorded."),
    "update_status": ("Změnit stav", "Change the status"),
    "status_updated": ("Stav je změněn.", "The status is changed."),
    "rejected_title": ("Odmítnutá podání", "Rejected submissions"),
    "rejected_empty": ("Žádné odmítnuté podání.", "No rejected submission."),
    "clerk_filing_title": ("Podání", "Filing"),
    "error_title": ("Chyba", "Error"),
    "not_found": (
        "Taková stránka nebo podání neexistuje (nebo k němu nemáte přístup).",
        "No such page or filing exists (or it is not yours to see).",
    ),
    "forbidden": ("K této stránce nemáte přístup.", "You may not see this page."),
    # account errors, by their code
    "err_bad_credentials": (
        "E-mail nebo heslo nejsou správné.",
        "The e-mail or the password is not right.",
    ),
    "err_account_locked": (
        "Účet je po pěti chybných pokusech o přihlášení dočasně zablokován. Zkuste to později, "
        "nebo si nastavte nové heslo odkazem Zapomenuté heslo.",
        "After five wrong passwords the account is locked for a while. Try again later, or set a "
        "new password by the link Forgot password.",
    ),
    "err_weak_password": (
        "Heslo je příliš slabé: nejméně 8 znaků, alespoň jedna číslice, jedno velké a jedno "
        "malé písmeno.",
        "The password is too weak: at least 8 characters, with a digit, an upper-case and a "
        "lower-case letter.",
    ),
    "err_email_taken": (
        "Účet s tímto e-mailem už existuje; přihlaste se.",
        "An account with this e-mail exists already; log in.",
    ),
    "err_invalid_account_data": (
        "Zkontrolujte jméno, příjmení a e-mailovou adresu.",
        "Check the first name, surname and e-mail address.",
    ),
    "err_link_invalid": (
        "Odkaz neplatí: neznáme jej, byl již použit nebo vypršel. Požádejte o nový.",
        "This link is not valid: unknown, used already or expired. Ask for a new one.",
    ),
    # states and statuses in plain words
    "st_received": ("přijato", "received"),
    "st_validated": ("zkontrolováno", "checked"),
    "st_verified": ("podpisy ověřeny", "signatures verified"),
    "st_registered": ("zaevidováno", "registered"),
    "st_receipted": ("potvrzení vydáno", "receipt issued"),
    "st_completed": ("zaevidováno, potvrzení vydáno", "registered, receipt issued"),
    "st_rejected": ("odmítnuto", "rejected"),
    "st_in_progress": ("v řízení", "in progress"),
    "st_settled": ("vyřízeno", "settled"),
    "st_forwarded": ("postoupeno", "forwarded"),
    "st_set_aside": ("odloženo", "set aside"),
    "st_awaiting_confirmation": ("čeká na potvrzení", "awaiting confirmation"),
    "st_confirmed": ("potvrzeno", "confirmed"),
    "st_lapsed": ("nepotvrzeno včas", "not confirmed in time"),
    "st_receipt_issued": ("vydáno potvrzení o přijetí", "receipt issued"),
    "st_copy_issued": ("vydán opis", "copy issued"),
    "st_rejection_notice_issued": ("vydáno oznámení o odmítnutí", "rejection notice issued"),
    "st_not_required": ("potvrzení není třeba", "no confirmation needed"),
    "role_registered": ("registrovaný uživatel", "registered user"),
    "role_contractual": ("smluvní uživatel", "contractual user"),
    "role_clerk": ("úředník", "clerk"),
    "role_admin": ("správce", "administrator"),
}


def translator(lang: str) -> Callable[[str], str]:
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        pair = TEXTS[key]  # a KeyError is a bug: tests render every page in both languages
        return pair[index] or pair[0]

    return t


def words_for_state(lang: str, state: str | None) -> str:
    """A state or status in plain words (the code itself when there are none)."""
    if not state:
        return "—"
    pair = TEXTS.get(f"st_{state}")
    if pair is None:
        return state.replace("_", " ")
    return pair[1 if lang == "en" else 0]


def _cs_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{int(d)}. {int(m)}. {y}"


# The notes the system writes into a filing's history are English sentences kept in the registry
# (they are records, not page text); a Czech page words the known ones in Czech. A clerk's own
# note is shown as typed. Each: (pattern, Czech wording; "{n}" is the n-th group, "{n:d}" a date).
_NOTE_CS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), cs)
    for p, cs in (
        (
            r"reference number (\S+); confirmation needed by (\d{4}-\d\d-\d\d)",
            "evidenční číslo {1}; potvrdit je třeba do {2:d}",
        ),
        (r"reference number (\S+)", "evidenční číslo {1}"),
        (r"form and attachments valid", "formulář a přílohy jsou v pořádku"),
        (r"data-box message valid", "datová zpráva je v pořádku"),
        (r"(\d+) problem\(s\) found", "nalezené problémy: {1}"),
        (r"recognised signature required", "vyžaduje se uznávaný elektronický podpis"),
        (
            r"not confirmed by the last day of the period, (\d{4}-\d\d-\d\d)",
            "nepotvrzeno do posledního dne lhůty, {1:d}",
        ),
        (r"linked re-filing (\S+)", "potvrzeno opakovaným podáním {1}"),
        (r"(receipts|copies|rejections)/\S+", ""),  # a storage key: the state says it all
    )
)


def words_for_note(lang: str, note: str, actor: str = "system") -> str:
    """A history note in the page's language (system notes only; people's notes as written)."""
    if lang == "en" or not note or actor != "system":
        return note
    for pattern, cs in _NOTE_CS:
        m = pattern.fullmatch(note.strip())
        if m is None:
            continue
        out = cs
        for i, group in enumerate(m.groups(), start=1):
            if f"{{{i}:d}}" in out:
                out = out.replace(f"{{{i}:d}}", _cs_date(group))
            out = out.replace(f"{{{i}}}", group)
        return out
    return note
