"""The portal's pages (server-rendered with Jinja2): the frame every page shares, and the
public pages: home, form catalogue with blank forms, receipt verification, system state,
language switch.

Every page is plain HTML that works without JavaScript, in Czech by default (English by the
``lang`` cookie, set by ``/jazyk/en``); every form carries a CSRF field (``podatelna.web.auth``);
responses carry a Content-Security-Policy that allows nothing from other origins, and
``Referrer-Policy: no-referrer`` so that a link's secret in a URL (verification, reset) is not
passed on. The citizen pages are in ``pages_citizen``, the account pages in ``pages_account``,
the clerk pages in ``pages_clerk``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

import schemas
from podatelna.web.auth import Principal, apply_csrf_cookie, csrf_token, csrf_valid, principal
from podatelna.web.filings import form_name
from podatelna.web.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    TEXTS,
    translator,
    words_for_note,
    words_for_state,
)

if TYPE_CHECKING:
    from podatelna.app import App

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
LANG_COOKIE = "lang"
#: the largest urlencoded page form accepted (uploads go through the streaming multipart parser)
MAX_FORM_BYTES = 64 * 1024

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class PageRedirect(Exception):
    """Raised by a page to send the browser elsewhere (e.g. to the login page)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class PageError(Exception):
    """A page that cannot be shown: rendered as an error page with ``status``."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def safe_next(url: str | None) -> str:
    """Only a path on this site may be a redirect target (no open redirect)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


@dataclass
class Pages:
    """What every page handler needs: the application, the templates, and the helpers."""

    app: App
    env: Environment

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.app.settings.office.timezone)

    def who(self, request: Request) -> Principal | None:
        return principal(self.app, request)

    def user(self, request: Request) -> Principal:
        """The logged-in person, or a redirect to the login page that comes back here."""
        who = self.who(request)
        if who is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise PageRedirect(f"/prihlaseni?next={quote(target, safe='')}&msg=login_needed")
        return who

    def staff(self, request: Request) -> Principal:
        who = self.user(request)
        if not who.is_staff:
            raise PageError(403, "forbidden")
        return who

    async def form(self, request: Request) -> dict[str, str]:
        """The fields of an urlencoded POST (at most ``MAX_FORM_BYTES``, read as it arrives),
        after the CSRF check."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise PageError(413, "csrf_failed")
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        fields = dict(pairs[:50])
        self.check_csrf(request, fields.get("csrf", ""))
        return fields

    def check_csrf(self, request: Request, value: str) -> None:
        if not csrf_valid(self.app, request, value):
            raise PageError(403, "csrf_failed")

    def render(self, request: Request, name: str, *, status: int = 200, **ctx: Any) -> Response:
        lang = lang_of(request)
        t = translator(lang)
        zone = self.zone()
        office = self.app.settings.office
        msg = request.query_params.get("msg", "")
        env_ctx: dict[str, Any] = {
            "lang": lang,
            "t": t,
            "who": self.who(request),
            "csrf": csrf_token(self.app, request),
            # where the language switch returns to (a POST's result cannot be fetched again)
            "here": request.url.path if request.method == "GET" else "/",
            "office_name": office.name,
            "office_address": office.address,
            "office_code": office.code,
            "message": t(msg) if msg in TEXTS else "",
            "form_name": lambda code: form_name(code, lang),
            "state_words": lambda s: words_for_state(lang, (s or "").removeprefix("status:")),
            "note_words": lambda note, actor="system": words_for_note(lang, note, actor),
            "zone": zone,
        }
        env_ctx.update(ctx)
        html = self.env.get_template(name).render(**env_ctx)
        response = HTMLResponse(html, status_code=status, headers=_HEADERS)
        apply_csrf_cookie(self.app, request, response)
        return response

    def redirect(self, url: str, msg: str | None = None) -> RedirectResponse:
        if msg:
            url += ("&" if "?" in url else "?") + f"msg={msg}"
        return RedirectResponse(url, status_code=303, headers=_HEADERS)


def make_env(zone: ZoneInfo) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(value: datetime | str | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.astimezone(zone).strftime("%d.%m.%Y %H:%M:%S")

    def day(value: date | str | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return value.strftime("%d.%m.%Y")

    env.filters["local"] = local
    env.filters["day"] = day
    return env


def install_pages(api: FastAPI, app: App) -> None:
    """Mount the static files and every page router on ``api``."""
    from podatelna.web.pages_account import account_pages
    from podatelna.web.pages_citizen import citizen_pages
    from podatelna.web.pages_clerk import clerk_pages

    pages = Pages(app, make_env(ZoneInfo(app.settings.office.timezone)))
    api.mount("/static", StaticFiles(directory=STATIC), name="static")

    @api.exception_handler(PageRedirect)
    async def _redirect(_req: Request, exc: PageRedirect) -> Response:
        return pages.redirect(exc.url)

    @api.exception_handler(PageError)
    async def _page_error(req: Request, exc: PageError) -> Response:
        t = translator(lang_of(req))
        return pages.render(
            req, "message.html", status=exc.status, heading=t("error_title"), text=t(exc.key)
        )

    api.include_router(public_pages(pages))
    api.include_router(account_pages(pages))
    api.include_router(citizen_pages(pages))
    api.include_router(clerk_pages(pages))


def public_pages(pages: Pages) -> APIRouter:
    app = pages.app
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return pages.render(request, "home.html")

    @router.get("/jazyk/{lang}")
    def switch_language(lang: str, request: Request) -> Response:
        response = pages.redirect(safe_next(request.query_params.get("next")))
        if lang in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=365 * 86400,
                path="/",
                samesite="lax",
                secure=app.settings.web.cookie_secure,
                httponly=True,
            )
        return response

    @router.get("/formulare", response_class=HTMLResponse)
    def catalogue(request: Request) -> Response:
        forms = sorted(schemas.catalogue().values(), key=lambda f: f.name_cs)
        from podatelna.web.xsdform import simple_codes

        return pages.render(request, "forms.html", forms=forms, simple=set(simple_codes()))

    @router.get("/formulare/{name}")
    def blank_form(name: str) -> Response:
        """The blank form of a type (its sample with the values to be filled) or its XSD."""
        code, _, ext = name.rpartition(".")
        form = schemas.catalogue().get(code)
        if form is None or ext not in ("xml", "xsd"):
            raise PageError(404, "not_found")
        if ext == "xsd":
            data, media = form.xsd_path.read_bytes(), "application/xml"
        else:
            data, media = schemas.sample_path(code).read_bytes(), "application/xml"
        return Response(
            data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{code}.{ext}"'},
        )

    @router.get("/verify", response_class=HTMLResponse)
    async def verify_page(request: Request) -> Response:
        code = request.query_params.get("code", "")[:300]
        return await _verify(request, code)

    @router.get("/verify/{code}", response_class=HTMLResponse)
    async def verify_code(code: str, request: Request) -> Response:
        return await _verify(request, code[:300])

    async def _verify(request: Request, code: str) -> Response:
        from podatelna.receipt_lookup import lookup_receipt

        info = await run_in_threadpool(lookup_receipt, app, code) if code.strip() else None
        return pages.render(request, "verify.html", code=code.strip(), info=info)

    @router.get("/stav", response_class=HTMLResponse)
    async def state_page(request: Request) -> Response:
        from podatelna.status import LEVEL_TEXT, system_state

        state = await run_in_threadpool(system_state, app)
        words = LEVEL_TEXT[state.level][1 if lang_of(request) == "en" else 0]
        known = {k for k in TEXTS if k.startswith("check_")}
        status = 200 if state.level != "out_of_operation" else 503
        return pages.render(
            request,
            "state.html",
            status=status,
            state=state,
            level_text=words,
            known_checks=known,
            known_queues={k for k in TEXTS if k.startswith("q_")},
            refresh=30,
        )

    return router
