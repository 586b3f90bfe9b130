"""HTTP for clerks: filings awaiting confirmation, and recording a confirmation.

Errors are JSON ``{"code", "message"}``. The body is parsed by pydantic with a closed set of
fields (unknown ones are refused). Every endpoint requires a clerk's or administrator's session or
bearer token (``podatelna.web.auth.api_staff``); the audit log names that clerk unless ``actor_of``
says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from filing_registry import NotFound
from filing_registry.deadlines import DeadlineError
from filing_registry.tracker import ConfirmationError, NotAwaitingConfirmation
from podatelna.app import App
from podatelna.tracker_jobs import awaiting, record_confirmation
from podatelna.web.auth import api_staff


class ConfirmationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    how: Literal["posted", "received", "resubmitted_signed", "data_box"]
    on: date | None = None
    by_reference: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=2000)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def clerk_router(app: App, *, actor_of: Callable[[Request], str] | None = None) -> APIRouter:
    """The clerks' tracker endpoints, for clerks and administrators only. ``actor_of`` names the
    clerk of a request for the audit log; by default it is the authenticated clerk."""

    def who(request: Request) -> str:
        staff = api_staff(app, request)
        return actor_of(request) if actor_of else staff.actor

    router = APIRouter(tags=["clerks"])

    @router.get("/api/v1/tracker/awaiting")
    async def list_awaiting(
        request: Request,
        due_within: int | None = Query(default=None, ge=0, le=366),
    ) -> dict[str, Any]:
        """Filings awaiting confirmation, ordered by their last day, with the days left."""
        api_staff(app, request)
        rows = await run_in_threadpool(awaiting, app, due_within=due_within)
        return {"filings": rows}

    @router.post("/api/v1/filings/{reference:path}/confirmation", response_model=None)
    async def confirm_filing(reference: str, body: ConfirmationBody, request: Request) -> Any:
        """Record a confirmation: ``posted``/``received`` with ``on``, or a re-filing's
        reference in ``by_reference`` (``how`` then follows from that filing)."""
        actor = who(request)
        if body.how in ("posted", "received") and body.on is None:
            return _error(
                422,
                "invalid_confirmation",
                f"A confirmation by a hand-signed copy that was {body.how} needs the day, in "
                "the field 'on' (YYYY-MM-DD).",
            )
        if body.how in ("resubmitted_signed", "data_box") and not body.by_reference:
            return _error(
                422,
                "invalid_confirmation",
                "A confirmation by a re-filing needs its reference number in 'by_reference'.",
            )
        by_ref = body.by_reference if body.how in ("resubmitted_signed", "data_box") else None
        try:
            row = await run_in_threadpool(
                record_confirmation,
                app,
                reference,
                how=body.how,
                on=body.on,
                by_reference=by_ref,
                note=body.note,
                actor=actor,
            )
        except NotFound as exc:
            return _error(404, exc.code, exc.message)
        except NotAwaitingConfirmation as exc:
            return _error(409, exc.code, exc.message)
        except ConfirmationError as exc:
            return _error(422, exc.code, exc.message)
        except DeadlineError as exc:
            return _error(422, exc.code, str(exc))
        return row

    return router
