"""Accounts over the API: register, verify, get a bearer token, one's own filings and data.

``POST /api/v1/tokens`` counts failed logins and locks accounts exactly as the portal's login
form does (it is the same :func:`podatelna.accounts.authenticate`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from filing_registry import entries_about
from podatelna import accounts, documents
from podatelna.app import App
from podatelna.web.auth import api_user, send_account_exists, send_verification
from podatelna.web.filings import my_submissions


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    first_name: str = Field(max_length=100)
    surname: str = Field(max_length=100)
    password: str = Field(max_length=1024)


class VerifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=200)


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


def register_account(app: App, email: str, first: str, surname: str, password: str) -> str:
    """Create an account and send its verification link; returns the normalised address.

    An address that has an account already gets the same answer as a new one (the page must
    not tell a stranger who has an account here); its owner gets an e-mail saying someone tried,
    with the way to a new password. What is wrong with the input itself is still said.
    """
    now = app.clock.now()
    try:
        with app.sessions() as session, session.begin():
            user = accounts.register(
                session, email=email, first_name=first, surname=surname, password=password, now=now
            )
            raw = accounts.verification_token(session, user, now=now, policy=app.account_policy)
            address = user.email
    except accounts.EmailTaken:
        address = accounts.normalise_email(email)
        send_account_exists(app, address)
        return address
    send_verification(app, address, raw)
    return address


def login(app: App, email: str, password: str, purpose: accounts.TokenPurpose) -> tuple[str, Any]:
    """Check the password (counting failures, locking); a new session or API token."""
    now = app.clock.now()
    policy = app.account_policy
    with app.sessions() as session, session.begin():
        outcome = accounts.authenticate(session, email, password, now=now, policy=policy)
        if outcome.ok:
            assert outcome.user is not None
            ttl = (
                policy.session_ttl
                if purpose is accounts.TokenPurpose.SESSION
                else (policy.api_token_ttl)
            )
            raw = accounts.issue_token(session, outcome.user, purpose, now=now, ttl=ttl)
            return raw, now + ttl
    assert outcome.error is not None
    raise outcome.error


def account_router(app: App) -> APIRouter:
    router = APIRouter(tags=["accounts"])

    @router.post("/api/v1/accounts", status_code=201)
    async def create_account(body: RegisterBody) -> dict[str, Any]:
        """Register; a verification link goes to the e-mail address (needed before filing)."""
        address = await run_in_threadpool(
            register_account, app, body.email, body.first_name, body.surname, body.password
        )
        return {"email": address, "verified": False}

    @router.post("/api/v1/accounts/verify")
    def verify(body: VerifyBody) -> dict[str, Any]:
        with app.sessions() as session, session.begin():
            user = accounts.verify_email(session, body.token, now=app.clock.now())
            return {"email": user.email, "verified": True}

    @router.post("/api/v1/tokens", status_code=201)
    async def new_token(body: TokenBody) -> dict[str, Any]:
        """A bearer token for ``Authorization: Bearer ...`` (five wrong passwords lock)."""
        raw, expires = await run_in_threadpool(
            login, app, body.email, body.password, accounts.TokenPurpose.API
        )
        return {"token": raw, "expires_at": expires.isoformat()}

    @router.delete("/api/v1/tokens/current")
    def revoke(request: Request) -> JSONResponse:
        who = api_user(app, request)
        with app.sessions() as session, session.begin():
            accounts.revoke_token(session, who.token, now=app.clock.now())
        return JSONResponse({"revoked": True})

    @router.get("/api/v1/me")
    def me(request: Request) -> dict[str, Any]:
        who = api_user(app, request)
        return {
            "email": who.email,
            "name": who.full_name,
            "role": who.role.value,
            "verified": who.verified,
        }

    @router.get("/api/v1/me/filings")
    def my_filings(request: Request) -> dict[str, Any]:
        who = api_user(app, request)
        rows = my_submissions(app, who)
        for r in rows:
            r["received_at"] = r["received_at"].isoformat()
            r["deadline"] = r["deadline"].isoformat() if r["deadline"] else None
        return {"filings": rows}

    @router.get("/api/v1/me/audit")
    def my_audit(request: Request) -> dict[str, Any]:
        who = api_user(app, request)
        with app.sessions() as session:
            entries = entries_about(session, *who.addresses)
        return {
            "entries": [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "object": f"{e.object_type}:{e.object_id}",
                }
                for e in sorted({e.seq: e for e in entries}.values(), key=lambda e: e.seq)
            ]
        }

    @router.post("/api/v1/me/export", status_code=201)
    async def my_export(request: Request) -> dict[str, Any]:
        """Seal a personal-data export now; answer with short-lived download links."""
        who = api_user(app, request)
        export = await run_in_threadpool(
            documents.personal_export, app, who.email, actor=who.actor, former=who.addresses
        )
        return {
            "pdf_url": documents.download_link(app, "exports", export.pdf_key),
            "data_url": documents.download_link(app, "exports", export.data_key),
            "expires_in_seconds": app.settings.storage.link_ttl_seconds,
        }

    return router
