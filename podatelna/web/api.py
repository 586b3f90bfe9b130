"""The JSON API (FastAPI, OpenAPI at ``/docs``); errors are JSON: a ``code`` and a sentence.

Everything but the health check, account creation and token issue needs a session or a bearer
token (``podatelna.web.auth``), and a person sees only their own submissions, filings, receipts
and copies: another person's id or reference is answered ``404`` as if it did not exist.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from filing_registry import NotFound
from intake import Incoming, IncomingFile, IntakeError, Sender
from podatelna import documents
from podatelna.accounts import AccountError
from podatelna.app import App
from podatelna.pipeline.broker import ping_broker
from podatelna.service import file_submission
from podatelna.web import multipart
from podatelna.web.auth import ApiDenied, api_user
from podatelna.web.filings import content_file, owned

log = logging.getLogger(__name__)


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def create_api(app: App, *, run_workers: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        app.migrate()
        try:
            app.ensure_buckets()
        except app.storage_errors.StoreUnavailable:
            log.warning("object store not reachable at start; intake answers 503 until it is")
        if run_workers:
            app.pipeline.start_workers()
        yield
        if run_workers:
            app.pipeline.stop_workers()

    api = FastAPI(
        title="podatelna",
        version="1",
        description="Electronic filing office: submissions, filings, receipts.",
        lifespan=lifespan,
    )
    api.state.app = app

    @api.exception_handler(IntakeError)
    async def _intake_error(_req: Request, exc: IntakeError) -> JSONResponse:
        return error(exc.status, exc.code, exc.message)

    @api.exception_handler(ApiDenied)
    async def _denied(_req: Request, exc: ApiDenied) -> JSONResponse:
        return error(exc.status_code, exc.code, exc.message)

    @api.exception_handler(AccountError)
    async def _account_error(_req: Request, exc: AccountError) -> JSONResponse:
        return error(exc.status, exc.code, exc.message)

    @api.exception_handler(NotFound)
    async def _not_found(_req: Request, exc: NotFound) -> JSONResponse:
        return error(404, exc.code, exc.message)

    @api.post("/api/v1/submissions", status_code=202)
    async def submit(request: Request) -> JSONResponse:
        """Multipart: ``form`` (the XML form), ``attachments`` (files, repeatable), optional
        ``idempotency_key`` (or an ``Idempotency-Key`` header). The sender is the logged-in
        person, whose e-mail must be verified; clerks may name another ``sender`` (and
        ``sender_name``), e.g. for a filing brought in on paper."""
        who = api_user(app, request)
        if not who.verified:
            return error(
                403,
                "email_not_verified",
                "Verify your e-mail address first: open the link we sent you.",
            )
        limits = app.intake_limits
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_total_bytes + 64 * 1024:
            return error(
                413,
                "too_large",
                f"The submission is larger than the limit of {limits.max_total_bytes} bytes.",
            )
        parsed = await multipart.parse(
            request.headers.get("content-type", ""), request.stream(), limits
        )
        try:
            forms = [p for p in parsed.files if p.name == "form"]
            if len(forms) != 1:
                return error(
                    400,
                    "form_missing",
                    "Send exactly one form: a file in the multipart field 'form'.",
                )
            sender = parsed.fields.get("sender", "").strip() or who.email
            sender_name = parsed.fields.get("sender_name", "").strip() or who.full_name
            if not who.is_staff and sender not in who.addresses:
                return error(
                    403,
                    "sender_mismatch",
                    "You can file only in your own name; leave out the field 'sender'.",
                )
            if not who.is_staff:
                sender_name = who.full_name
            others = [p for p in parsed.files if p.name != "form"]
            incoming = Incoming(
                channel="portal",
                sender=Sender(sender, sender_name),
                form=IncomingFile(
                    forms[0].filename or "form.xml",
                    forms[0].file,  # type: ignore[arg-type]
                    role="form",
                    declared_media_type=forms[0].content_type,
                ),
                attachments=[
                    IncomingFile(
                        p.filename or "unnamed",
                        p.file,  # type: ignore[arg-type]
                        role="signature" if (p.filename or "").endswith(".p7s") else "attachment",
                        declared_media_type=p.content_type,
                    )
                    for p in others
                ],
                idempotency_key=request.headers.get("idempotency-key")
                or parsed.fields.get("idempotency_key")
                or None,
                confirms_reference=parsed.fields.get("confirms_reference") or None,
            )
            acc = await run_in_threadpool(file_submission, app, incoming)
        finally:
            parsed.close()
        body = acc.to_dict()
        body["status_url"] = f"/api/v1/submissions/{acc.submission_id}"
        return JSONResponse(body, status_code=202)

    @api.get("/api/v1/submissions/{submission_id}")
    def get_submission(submission_id: str, request: Request) -> dict[str, Any]:
        info = owned(app, api_user(app, request), submission_id)
        if info["id"] != submission_id:
            raise NotFound(f"No submission has the id {submission_id!r}.")
        return info

    @api.get("/api/v1/filings/{reference:path}/receipt.pdf")
    def get_receipt(reference: str, request: Request) -> Response:
        info = owned(app, api_user(app, request), reference)
        if info.get("reference") != reference or not info.get("receipt"):
            return error(404, "receipt_not_ready", "This filing has no receipt yet.")
        pdf = app.store.get("receipts", info["receipt"])
        name = reference.replace("/", "-")
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )

    @api.get("/api/v1/filings/{reference:path}/copy.pdf")
    def get_copy(reference: str, request: Request) -> Response:
        info = owned(app, api_user(app, request), reference)
        if info.get("reference") != reference:
            raise NotFound(f"No filing has the reference number {reference!r}.")
        _key, pdf = documents.issue_copy(app, reference)
        name = reference.replace("/", "-")
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="opis-{name}.pdf"'},
        )

    @api.get("/api/v1/submissions/{submission_id}/files/{position}")
    def get_content(submission_id: str, position: int, request: Request) -> Response:
        """The content of a file one sent (contractual users, clerks and administrators)."""
        who = api_user(app, request)
        if not who.may_open_content:
            return error(
                403,
                "contract_required",
                "Opening the content of what you sent needs a contractual account.",
            )
        name, media_type, data = content_file(app, who, submission_id, position)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        return Response(
            data,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{safe}"'},
        )

    @api.get("/api/v1/downloads/{token}")
    def download(token: str) -> Response:
        try:
            bucket, key = documents.resolve_token(app, token)
        except (documents.LinkInvalid, ValueError) as exc:
            return error(403, "link_invalid", str(exc) or "This download link is not valid.")
        ctype = "application/pdf" if key.endswith(".pdf") else "application/octet-stream"
        return Response(app.store.get(bucket, key), media_type=ctype)

    @api.get("/api/v1/filings/{reference:path}")
    def get_filing(reference: str, request: Request) -> dict[str, Any]:
        info = owned(app, api_user(app, request), reference)
        if info.get("reference") != reference:
            raise NotFound(f"No filing has the reference number {reference!r}.")
        return info

    @api.get("/api/v1/health")
    def health() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            with app.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["database"] = f"failing: {exc.__class__.__name__}"
        try:
            app.store.ping()
            checks["object_store"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["object_store"] = f"failing: {exc}"
        try:
            ping_broker(app.settings.broker)
            checks["broker"] = "ok"
        except ConnectionError as exc:
            checks["broker"] = f"failing: {exc}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)

    from podatelna.web.account_api import account_router
    from podatelna.web.clerk_api import clerk_router
    from podatelna.web.databox_api import databox_router

    api.include_router(account_router(app))
    api.include_router(clerk_router(app))
    api.include_router(databox_router(app))
    from podatelna.web.pages import install_pages

    install_pages(api, app)
    from podatelna.web.status_api import install_status

    install_status(api, app)
    return api
