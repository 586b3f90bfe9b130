"""Clerk pages: the journal with filters, filings awaiting confirmation by deadline (with the
days left and a form to record a confirmation), a filing with its status form, rejected
submissions with their reasons. Clerks and administrators only; every act is audited in the
clerk's name (``clerk:<e-mail>``) by the same functions the CLI and the clerk API use.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

import schemas
from filing_registry import Channel, Filing, NotFound, TrackerState
from filing_registry.deadlines import DeadlineError
from filing_registry.tracker import ConfirmationError, NotAwaitingConfirmation
from podatelna.service import describe
from podatelna.tracker_jobs import awaiting, record_confirmation
from podatelna.web.filings import (
    STATUSES,
    JournalFilter,
    journal,
    rejected,
    signature_summary,
    update_status,
)
from podatelna.web.i18n import translator
from podatelna.web.pages import PageError, Pages, lang_of


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def clerk_pages(pages: Pages) -> APIRouter:
    app = pages.app
    router = APIRouter(include_in_schema=False)

    def today() -> str:
        return app.clock.now().astimezone(pages.zone()).date().isoformat()

    @router.get("/urad/denik", response_class=HTMLResponse)
    def journal_page(request: Request) -> Response:
        pages.staff(request)
        q = request.query_params
        flt = JournalFilter(
            date_from=_day(q.get("from")),
            date_to=_day(q.get("to")),
            form_type=q.get("form_type", "")[:64],
            state=q.get("state", "")[:32],
            channel=q.get("channel", "")[:16],
        )
        states = [*STATUSES, *(s.value for s in TrackerState)]
        return pages.render(
            request,
            "journal.html",
            rows=journal(app, flt),
            flt=flt,
            states=states,
            channels=[c.value for c in Channel],
            forms=sorted(schemas.catalogue().values(), key=lambda f: f.name_cs),
        )

    def awaiting_rows() -> list[dict[str, Any]]:
        rows = awaiting(app)
        with app.sessions() as session:
            ids: dict[str, str] = {
                ref: sid
                for ref, sid in session.execute(
                    select(Filing.reference, Filing.submission_id).where(
                        Filing.reference.in_([r["reference"] for r in rows])
                    )
                )
            }
        for r in rows:
            r["id"] = ids.get(r["reference"])
        return rows

    @router.get("/urad/potvrzeni", response_class=HTMLResponse)
    def awaiting_page(request: Request) -> Response:
        pages.staff(request)
        return pages.render(request, "awaiting.html", rows=awaiting_rows(), today=today())

    @router.get("/urad/odmitnuta", response_class=HTMLResponse)
    def rejected_page(request: Request) -> Response:
        pages.staff(request)
        return pages.render(request, "rejected.html", rows=rejected(app))

    def reference_of(sid: str) -> str:
        with app.sessions() as session:
            ref = session.execute(
                select(Filing.reference).where(Filing.submission_id == sid)
            ).scalar_one_or_none()
        if ref is None:
            raise PageError(404, "not_found")
        return ref

    @router.get("/urad/podani/{sid}", response_class=HTMLResponse)
    def filing_page(sid: str, request: Request, error: str = "") -> Response:
        pages.staff(request)
        try:
            info = describe(app, sid)
        except NotFound:
            raise PageError(404, "not_found") from None
        info["received_at_dt"] = datetime.fromisoformat(info["received_at"])
        for e in info.get("history", []):
            e["at_dt"] = datetime.fromisoformat(e["at"])
        return pages.render(
            request,
            "detail.html",
            info=info,
            base=f"/moje-podani/{sid}",
            clerk=True,
            statuses=STATUSES,
            today=today(),
            signatures=signature_summary(app, info["id"], lang_of(request)),
            error=error or None,
        )

    @router.post("/urad/podani/{sid}/stav", response_class=HTMLResponse)
    async def status_post(sid: str, request: Request) -> Response:
        f = await pages.form(request)
        who = pages.staff(request)
        ref = reference_of(sid)
        if f.get("status") not in STATUSES:
            raise PageError(422, "not_found")
        await run_in_threadpool(
            update_status, app, ref, f["status"], f.get("note", ""), actor=who.actor
        )
        return pages.redirect(f"/urad/podani/{sid}", "status_updated")

    @router.post("/urad/podani/{sid}/potvrzeni", response_class=HTMLResponse)
    async def confirm_post(sid: str, request: Request) -> Response:
        f = await pages.form(request)
        who = pages.staff(request)
        ref = reference_of(sid)
        how = f.get("how", "")
        on = _day(f.get("on"))
        t = translator(lang_of(request))
        if how not in ("posted", "received") or on is None:
            return filing_page(sid, request, error=t("confirm_on"))
        try:
            await run_in_threadpool(
                lambda: record_confirmation(
                    app, ref, how=how, on=on, note=f.get("note", "")[:2000], actor=who.actor
                )
            )
        except (ConfirmationError, NotAwaitingConfirmation, DeadlineError) as exc:
            resp = filing_page(sid, request, error=getattr(exc, "message", str(exc)))
            resp.status_code = 422
            return resp
        back = f.get("back", "")
        return pages.redirect(
            "/urad/potvrzeni" if back == "list" else f"/urad/podani/{sid}", "confirmed"
        )

    return router
