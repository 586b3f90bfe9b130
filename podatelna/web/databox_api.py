"""HTTP endpoints of data-box intake (sending systems authenticate with their own tokens).

``POST /api/v1/databox/messages`` (body: the envelope XML or the CMS container;
``Authorization: Bearer <token>``) answers ``202`` with the message id, or ``422`` with the id
and the reasons when the message was recorded as rejected; refusals that record nothing are
``400``/``401``/``403``/``409``/``413``/``422`` with a stable ``code``. ``GET .../{id}`` gives
the state, the events and the reference number; ``.../delivery-info.xml`` and
``.../delivery-receipt.pdf`` the delivery documents of a delivered message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from intake import IntakeError
from intake.databox import BodyTooLarge, DataboxError, authenticate
from podatelna import databox
from podatelna.app import App

PREFIX = "/api/v1/databox/messages"


def _error(exc: IntakeError) -> JSONResponse:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    details = getattr(exc, "details", None)
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=exc.status)


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise BodyTooLarge(f"The message has more than {limit:,} bytes; nothing was accepted.")
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise BodyTooLarge(f"The message has more than {limit:,} bytes; nothing was accepted.")
    return bytes(buf)


def databox_router(app: App) -> APIRouter:
    router = APIRouter(tags=["databox"])

    def token_of(request: Request) -> Any:
        return authenticate(app.sessions, request.headers.get("authorization"), now=app.clock.now())

    @router.post(PREFIX, status_code=202)
    async def post_message(request: Request) -> JSONResponse:
        """Deliver a data-box message: the envelope XML, or the envelope in a CMS container."""
        try:
            body = await _read_body(request, databox.max_body_bytes(app))
            got = await run_in_threadpool(
                databox.receive, app, body, request.headers.get("authorization")
            )
        except IntakeError as exc:
            return _error(exc)
        info = databox.describe(got.message)
        out = {
            "id": info["id"],
            "message_id": info["message_id"],
            "state": info["state"],
            "created": got.created,
            "status_url": f"{PREFIX}/{info['id']}",
        }
        if got.rejected:
            out.update(
                code="message_rejected",
                message="The message was received and rejected: "
                + " ".join(r.get("message", "") for r in info["reasons"]),
                reasons=info["reasons"],
            )
            return JSONResponse(out, status_code=422)
        return JSONResponse(out, status_code=202)

    @router.get(PREFIX + "/{message}")
    def get_message(message: str, request: Request) -> JSONResponse:
        try:
            msg = databox.resolve(app, message, token_of(request))
        except DataboxError as exc:
            return _error(exc)
        return JSONResponse(databox.describe(msg))

    def _document(message: str, request: Request, kind: str) -> Response:
        try:
            msg = databox.resolve(app, message, token_of(request))
            data = databox.delivery_document(app, msg.id, kind)
        except DataboxError as exc:
            return _error(exc)
        media, name = (
            ("application/pdf", f"dorucenka-{msg.id}.pdf")
            if kind == "pdf"
            else ("application/xml", f"doruceni-{msg.id}.xml")
        )
        return Response(
            data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get(PREFIX + "/{message}/delivery-info.xml")
    def get_delivery_info(message: str, request: Request) -> Response:
        return _document(message, request, "xml")

    @router.get(PREFIX + "/{message}/delivery-receipt.pdf")
    def get_delivery_receipt(message: str, request: Request) -> Response:
        return _document(message, request, "pdf")

    return router
