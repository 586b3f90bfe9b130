"""Who is asking: sessions in cookies for the pages, bearer tokens for the API, CSRF on forms.

A browser session is a random secret in the cookie ``podatelna_session`` (HTTP-only,
``SameSite=Lax``, ``Secure`` when ``web.cookie_secure``); an API client sends
``Authorization: Bearer <token>`` with a token from ``POST /api/v1/tokens``. Only digests of both
are stored (``podatelna.accounts``), and both can be revoked.

CSRF: every page form carries a hidden ``csrf`` field, an HMAC (under the application's secret)
of a random value kept in the HTTP-only cookie ``podatelna_csrf``; a POST whose field does not
match is refused. A site that is not ours can neither read the cookie nor compute the field.
Cookie-authenticated API calls that change something need the same value in ``X-CSRF-Token``;
bearer-token calls need none (a browser never adds the header by itself).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from starlette.responses import Response

from podatelna.accounts import Role, TokenPurpose, User, user_for_token
from podatelna.notifications import render_notice

if TYPE_CHECKING:
    from podatelna.app import App

SESSION_COOKIE = "podatelna_session"
CSRF_COOKIE = "podatelna_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    """The person behind a request (a snapshot of their account when the request came)."""

    user_id: int
    email: str
    full_name: str
    role: Role
    verified: bool
    addresses: tuple[str, ...]
    via: str  # "session" or "bearer"
    token: str

    @classmethod
    def of(cls, user: User, via: str, token: str) -> Principal:
        return cls(
            user.id,
            user.email,
            user.full_name,
            Role(user.role),
            user.email_verified_at is not None,
            tuple(user.addresses),
            via,
            token,
        )

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def may_open_content(self) -> bool:
        return self.role in (Role.CONTRACTUAL, Role.CLERK, Role.ADMIN)

    @property
    def actor(self) -> str:
        """How the audit log names this person's acts."""
        return f"clerk:{self.email}" if self.is_staff else self.email

    def may_see(self, sender: str | None) -> bool:
        """Whether a filing sent by ``sender`` is this person's to see."""
        return self.is_staff or (sender is not None and sender in self.addresses)


def principal(app: App, request: Request) -> Principal | None:
    """The authenticated person of ``request`` (cached on it), or ``None``."""
    if hasattr(request.state, "principal"):
        return request.state.principal  # type: ignore[no-any-return]
    found: Principal | None = None
    header = request.headers.get("authorization", "")
    now = app.clock.now()
    if header[:7].lower() == "bearer ":
        raw = header[7:].strip()
        with app.sessions() as session:
            hit = user_for_token(session, raw, (TokenPurpose.API,), now=now)
            if hit is not None:
                found = Principal.of(hit[0], "bearer", raw)
    elif raw := request.cookies.get(SESSION_COOKIE, ""):
        with app.sessions() as session:
            hit = user_for_token(session, raw, (TokenPurpose.SESSION,), now=now)
            if hit is not None:
                found = Principal.of(hit[0], "session", raw)
    request.state.principal = found
    return found


class ApiDenied(HTTPException):
    """An API request refused for who is (not) asking; rendered as ``{"code", "message"}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, message)
        self.code = code
        self.message = message


def api_user(app: App, request: Request) -> Principal:
    """The person of an API request, or 401; cookie sessions must show CSRF on writes."""
    who = principal(app, request)
    if who is None:
        raise ApiDenied(
            401,
            "login_required",
            "Log in first: send 'Authorization: Bearer <token>' (POST /api/v1/tokens) or use "
            "the portal.",
        )
    if who.via == "session" and request.method not in _SAFE_METHODS:
        if not csrf_valid(app, request, request.headers.get(CSRF_HEADER, "")):
            raise ApiDenied(403, "csrf_failed", "The request lacks a valid X-CSRF-Token header.")
    return who


def api_staff(app: App, request: Request) -> Principal:
    who = api_user(app, request)
    if not who.is_staff:
        raise ApiDenied(403, "forbidden", "Only clerks and administrators may do this.")
    return who


# -- cookies ------------------------------------------------------------------------------------


def set_session_cookie(app: App, response: Response, raw: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=app.settings.web.session_hours * 3600,
        path="/",
        secure=app.settings.web.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(app: App, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=app.settings.web.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def _csrf_for(app: App, seed: str) -> str:
    return hmac.new(app.secret_key, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def csrf_token(app: App, request: Request) -> str:
    """The value for the hidden ``csrf`` field of a form on the page being rendered; creates the
    seed cookie when the browser has none (``apply_csrf_cookie`` sets it on the response)."""
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_seed", None)
    if not seed:
        seed = secrets.token_urlsafe(24)
        request.state.csrf_seed = seed
    return _csrf_for(app, seed)


def apply_csrf_cookie(app: App, request: Request, response: Response) -> None:
    seed = getattr(request.state, "csrf_seed", None)
    if seed and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            seed,
            path="/",
            secure=app.settings.web.cookie_secure,
            httponly=True,
            samesite="lax",
        )


def csrf_valid(app: App, request: Request, value: str) -> bool:
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not value:
        return False
    return hmac.compare_digest(_csrf_for(app, seed), value)


# -- the e-mails with links ---------------------------------------------------------------------


def _portal(app: App) -> str:
    return app.settings.office.portal_url.rstrip("/")


def _send(app: App, kind: str, to: str, idempotency_key: str, **context: Any) -> None:
    """Send the account notice ``kind`` to ``to``, signed with the office's name and address."""
    context.update(office_name=app.settings.office.name, office_address=app.settings.office.address)
    app.notifier.send(render_notice(kind, to=to, context=context, idempotency_key=idempotency_key))


def send_verification(app: App, to: str, raw: str) -> None:
    _send(
        app,
        "verify_email",
        to,
        f"verify:{raw}",
        link=f"{_portal(app)}/email/{raw}",
        valid_hours=app.settings.web.verify_link_hours,
    )


def send_account_exists(app: App, to: str) -> None:
    """Tell the owner of ``to`` that someone tried to register with it (once per address and
    hour: repeated tries do not flood the mailbox)."""
    hour = app.clock.now().strftime("%Y%m%d%H")
    _send(app, "account_exists", to, f"exists:{to}:{hour}", reset_link=f"{_portal(app)}/heslo")


def send_reset(app: App, to: str, raw: str) -> None:
    _send(
        app,
        "password_reset",
        to,
        f"reset:{raw}",
        link=f"{_portal(app)}/heslo/nove/{raw}",
        valid_minutes=app.settings.web.reset_link_minutes,
    )
