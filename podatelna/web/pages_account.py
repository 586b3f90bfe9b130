"""Account pages: register, verify the e-mail, log in and out, forgotten password, settings.

The login form and ``POST /api/v1/tokens`` share one check (``account_api.login``), so the
failure counter and the lock are the same whichever way the passwords are tried. A reset
request answers the same whether or not the address has an account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from podatelna import accounts
from podatelna.accounts import AccountError, TokenPurpose
from podatelna.web.account_api import login, register_account
from podatelna.web.auth import (
    SESSION_COOKIE,
    clear_session_cookie,
    send_reset,
    send_verification,
    set_session_cookie,
)
from podatelna.web.i18n import TEXTS, translator
from podatelna.web.pages import Pages, lang_of, safe_next

T = TypeVar("T")


def error_text(request: Request, exc: AccountError) -> str:
    key = f"err_{exc.code}"
    return translator(lang_of(request))(key) if key in TEXTS else exc.message


def account_pages(pages: Pages) -> APIRouter:
    app = pages.app
    router = APIRouter(include_in_schema=False)

    # -- registration and verification -----------------------------------------------------

    @router.get("/registrace", response_class=HTMLResponse)
    def register_form(request: Request) -> Response:
        return pages.render(request, "register.html", form={})

    @router.post("/registrace", response_class=HTMLResponse)
    async def register_post(request: Request) -> Response:
        f = await pages.form(request)
        t = translator(lang_of(request))
        if f.get("password", "") != f.get("password2", ""):
            return pages.render(
                request, "register.html", status=422, form=f, error=t("passwords_differ")
            )
        try:
            await run_in_threadpool(
                register_account,
                app,
                f.get("email", ""),
                f.get("first_name", ""),
                f.get("surname", ""),
                f.get("password", ""),
            )
        except AccountError as exc:
            return pages.render(
                request,
                "register.html",
                status=exc.status,
                form=f,
                error=error_text(request, exc),
            )
        return pages.render(
            request, "message.html", heading=t("register_title"), text=t("register_done")
        )

    @router.get("/email/{token}", response_class=HTMLResponse)
    def verify_email(token: str, request: Request) -> Response:
        t = translator(lang_of(request))
        try:
            with app.sessions() as session, session.begin():
                accounts.verify_email(session, token, now=app.clock.now())
        except AccountError as exc:
            return pages.render(
                request,
                "message.html",
                status=exc.status,
                heading=t("error_title"),
                text=error_text(request, exc),
            )
        return pages.redirect(
            "/prihlaseni" if pages.who(request) is None else "/podat", "email_verified"
        )

    @router.post("/email/znovu")
    async def resend(request: Request) -> Response:
        await pages.form(request)
        who = pages.user(request)
        if not who.verified:
            with app.sessions() as session, session.begin():
                user = accounts.get_user(session, who.email)
                raw = accounts.verification_token(
                    session, user, now=app.clock.now(), policy=app.account_policy
                )
            send_verification(app, who.email, raw)
        return pages.redirect("/podat", "verification_sent")

    # -- logging in and out ----------------------------------------------------------------

    @router.get("/prihlaseni", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return pages.render(request, "login.html", next=safe_next(request.query_params.get("next")))

    @router.post("/prihlaseni", response_class=HTMLResponse)
    async def login_post(request: Request) -> Response:
        f = await pages.form(request)
        target = safe_next(f.get("next"))
        try:
            raw, _expires = await run_in_threadpool(
                login, app, f.get("email", ""), f.get("password", ""), TokenPurpose.SESSION
            )
        except AccountError as exc:
            return pages.render(
                request,
                "login.html",
                status=exc.status,
                next=target,
                email=f.get("email", ""),
                error=error_text(request, exc),
            )
        response = pages.redirect(target if target != "/" else "/moje-podani")
        set_session_cookie(app, response, raw)
        return response

    @router.post("/odhlaseni")
    async def logout(request: Request) -> Response:
        await pages.form(request)
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            with app.sessions() as session, session.begin():
                accounts.revoke_token(session, raw, now=app.clock.now())
        response = pages.redirect("/", "logged_out")
        clear_session_cookie(app, response)
        return response

    # -- forgotten password ------------------------------------------------------------------

    @router.get("/heslo", response_class=HTMLResponse)
    def forgot_form(request: Request) -> Response:
        return pages.render(request, "forgot.html")

    @router.post("/heslo", response_class=HTMLResponse)
    async def forgot_post(request: Request) -> Response:
        f = await pages.form(request)

        def work() -> None:
            with app.sessions() as session, session.begin():
                hit = accounts.request_reset(
                    session, f.get("email", ""), now=app.clock.now(), policy=app.account_policy
                )
                if hit is None:
                    return
                user, raw = hit
                address = user.email
            send_reset(app, address, raw)

        await run_in_threadpool(work)
        t = translator(lang_of(request))
        return pages.render(request, "message.html", heading=t("reset_title"), text=t("reset_sent"))

    @router.get("/heslo/nove/{token}", response_class=HTMLResponse)
    def reset_form(token: str, request: Request) -> Response:
        t = translator(lang_of(request))
        try:
            with app.sessions() as session:
                accounts.check_reset_link(session, token, now=app.clock.now())
        except AccountError as exc:
            return pages.render(
                request,
                "message.html",
                status=exc.status,
                heading=t("error_title"),
                text=error_text(request, exc),
            )
        return pages.render(request, "reset.html", token=token)

    @router.post("/heslo/nove/{token}", response_class=HTMLResponse)
    async def reset_post(token: str, request: Request) -> Response:
        f = await pages.form(request)
        t = translator(lang_of(request))
        if f.get("password", "") != f.get("password2", ""):
            return pages.render(
                request, "reset.html", status=422, token=token, error=t("passwords_differ")
            )
        try:
            with app.sessions() as session, session.begin():
                accounts.reset_password(session, token, f.get("password", ""), now=app.clock.now())
        except accounts.WeakPassword as exc:
            return pages.render(
                request,
                "reset.html",
                status=exc.status,
                token=token,
                error=error_text(request, exc),
            )
        except AccountError as exc:
            return pages.render(
                request,
                "message.html",
                status=exc.status,
                heading=t("error_title"),
                text=error_text(request, exc),
            )
        response = pages.redirect("/prihlaseni", "reset_done")
        clear_session_cookie(app, response)
        return response

    # -- settings ----------------------------------------------------------------------------

    @router.get("/ucet", response_class=HTMLResponse)
    def settings_page(request: Request) -> Response:
        pages.user(request)
        return pages.render(request, "account.html")

    async def on_own_account(
        request: Request, act: Callable[[Session, Any, dict[str, str], Any], T]
    ) -> T | Response:
        """Run ``act(session, user, form, who)`` on the signed-in user's account in one
        transaction, in a worker thread (a password check must not hold up the event loop);
        its result, or the settings page with the reason (a :class:`Response`) when an
        :class:`AccountError` refused it."""
        f = await pages.form(request)
        who = pages.user(request)

        def run() -> T:
            with app.sessions() as session, session.begin():
                return act(session, accounts.get_user(session, who.email), f, who)

        try:
            return await run_in_threadpool(run)
        except AccountError as exc:
            return pages.render(
                request, "account.html", status=exc.status, error=error_text(request, exc)
            )

    @router.post("/ucet/heslo", response_class=HTMLResponse)
    async def change_password(request: Request) -> Response:
        refused = await on_own_account(
            request,
            lambda session, user, f, who: accounts.change_password(
                session,
                user,
                f.get("old", ""),
                f.get("new", ""),
                now=app.clock.now(),
                keep_session=who.token,
            ),
        )
        if isinstance(refused, Response):
            return refused
        return pages.redirect("/ucet", "password_changed")

    @router.post("/ucet/email", response_class=HTMLResponse)
    async def change_email(request: Request) -> Response:
        token = await on_own_account(
            request,
            lambda session, user, f, _who: accounts.email_change_token(
                session,
                user,
                f.get("email", ""),
                f.get("password", ""),
                now=app.clock.now(),
                policy=app.account_policy,
            ),
        )
        if isinstance(token, Response):
            return token
        raw, new = token
        send_verification(app, new, raw)
        return pages.redirect("/ucet", "email_change_sent")

    @router.post("/ucet/zrusit", response_class=HTMLResponse)
    async def delete(request: Request) -> Response:
        refused = await on_own_account(
            request,
            lambda session, user, f, _who: accounts.delete_account(
                session,
                user,
                f.get("password", ""),
                now=app.clock.now(),
                policy=app.account_policy,
            ),
        )
        if isinstance(refused, Response):
            return refused
        response = pages.redirect("/", "account_deleted")
        clear_session_cookie(app, response)
        return response

    return router
