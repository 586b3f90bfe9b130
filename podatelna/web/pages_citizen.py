"""Citizen pages: send a form, "My filings", a filing's detail, receipts and copies, "My data".

Sending: the form is validated against its XSD *before* it is filed, so a form with errors is
shown again with every error in place (line, column, path) and nothing is filed; a valid form is
filed through the same intake as the API, in the logged-in person's name. Every page that names
a submission checks ownership through ``podatelna.web.filings.owned``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

import schemas
from filing_registry import NotFound, entries_about
from intake import Incoming, IncomingFile, IntakeError, Sender
from podatelna import documents
from podatelna.service import file_submission
from podatelna.web import multipart
from podatelna.web.filings import content_file, my_submissions, owned, signature_summary
from podatelna.web.i18n import translator
from podatelna.web.pages import PageError, Pages, lang_of
from validators import XmlLimits, validate_form

#: file parts of the send form, and the role each gets at intake
_ROLES = {"attachments": "attachment", "signatures": "signature"}


def citizen_pages(pages: Pages) -> APIRouter:
    app = pages.app
    router = APIRouter(include_in_schema=False)

    def forms() -> list[schemas.FormType]:
        return sorted(schemas.catalogue().values(), key=lambda f: f.name_cs)

    @router.get("/podat", response_class=HTMLResponse)
    def send_form(request: Request) -> Response:
        pages.user(request)
        chosen = request.query_params.get("form_type", "")
        return pages.render(request, "send.html", forms=forms(), chosen=chosen, issues=[])

    @router.post("/podat", response_class=HTMLResponse)
    async def send(request: Request) -> Response:
        who = pages.user(request)
        t = translator(lang_of(request))
        if not who.verified:
            return pages.render(request, "send.html", status=403, forms=forms(), issues=[])
        try:
            parsed = await multipart.parse(
                request.headers.get("content-type", ""), request.stream(), app.intake_limits
            )
        except IntakeError as exc:
            return pages.render(
                request,
                "send.html",
                status=exc.status,
                forms=forms(),
                issues=[{"message": exc.message}],
            )
        try:
            pages.check_csrf(request, parsed.fields.get("csrf", ""))
            chosen = parsed.fields.get("form_type", "")
            files = [p for p in parsed.files if p.filename and p.size > 0 and p.file]
            form = next((p for p in files if p.name == "form"), None)

            def again(issues: list[Any], status: int = 422) -> Response:
                return pages.render(
                    request, "send.html", status=status, forms=forms(), chosen=chosen, issues=issues
                )

            if form is None or form.file is None:
                return again([{"message": t("send_no_file")}])
            form.file.seek(0)
            data = form.file.read(app.settings.limits.max_form_bytes + 1)
            lim = app.settings.limits
            result = await run_in_threadpool(
                validate_form,
                data,
                limits=XmlLimits(
                    max_bytes=lim.max_form_bytes, max_depth=min(lim.max_xml_depth, 256)
                ),
            )
            if not result.ok:
                return again([i.to_dict() for i in result.errors])
            if chosen and result.form_type != chosen:
                return again([{"message": t("send_type_mismatch")}])
            form.file.seek(0)
            incoming = Incoming(
                channel="portal",
                sender=Sender(who.email, who.full_name),
                form=IncomingFile(
                    form.filename or "form.xml",
                    form.file,  # type: ignore[arg-type]
                    role="form",
                    declared_media_type=form.content_type,
                ),
                attachments=[
                    IncomingFile(
                        p.filename or "unnamed",
                        p.file,  # type: ignore[arg-type]
                        role=_ROLES[p.name],
                        declared_media_type=p.content_type,
                    )
                    for p in files
                    if p.name in _ROLES
                ],
                confirms_reference=(parsed.fields.get("confirms_reference") or "").strip() or None,
            )
            try:
                acc = await run_in_threadpool(file_submission, app, incoming)
            except IntakeError as exc:
                return again([{"message": exc.message}], exc.status)
        finally:
            parsed.close()
        return pages.redirect(f"/moje-podani/{acc.submission_id}", "sent")

    @router.get("/moje-podani", response_class=HTMLResponse)
    def mine(request: Request) -> Response:
        who = pages.user(request)
        return pages.render(request, "mine.html", rows=my_submissions(app, who))

    def detail_of(request: Request, sid: str) -> dict[str, Any]:
        who = pages.user(request)
        try:
            info = owned(app, who, sid)
        except NotFound:
            raise PageError(404, "not_found") from None
        if info["id"] != sid:
            raise PageError(404, "not_found")
        return info

    def render_detail(
        request: Request, info: dict[str, Any], *, clerk: bool, base: str, **extra: Any
    ) -> Response:
        info["received_at_dt"] = datetime.fromisoformat(info["received_at"])
        for e in info.get("history", []):
            e["at_dt"] = datetime.fromisoformat(e["at"])
        final = info["state"] in ("completed", "rejected")
        return pages.render(
            request,
            "detail.html",
            info=info,
            base=base,
            clerk=clerk,
            signatures=signature_summary(app, info["id"], lang_of(request)),
            refresh=None if final else 2,
            **extra,
        )

    @router.get("/moje-podani/{sid}", response_class=HTMLResponse)
    def detail(sid: str, request: Request) -> Response:
        info = detail_of(request, sid)
        return render_detail(request, info, clerk=False, base=f"/moje-podani/{sid}")

    @router.get("/moje-podani/{sid}/potvrzeni.pdf")
    def receipt(sid: str, request: Request) -> Response:
        info = detail_of(request, sid)
        if not info.get("receipt"):
            raise PageError(404, "not_found")
        pdf = app.store.get("receipts", info["receipt"])
        return _pdf(pdf, info["reference"].replace("/", "-") + ".pdf")

    @router.get("/moje-podani/{sid}/opis.pdf")
    async def copy(sid: str, request: Request) -> Response:
        info = detail_of(request, sid)
        if not info.get("reference"):
            raise PageError(404, "not_found")
        _key, pdf = await run_in_threadpool(documents.issue_copy, app, info["reference"])
        return _pdf(pdf, "opis-" + info["reference"].replace("/", "-") + ".pdf")

    @router.get("/moje-podani/{sid}/soubory/{position}")
    def content(sid: str, position: int, request: Request) -> Response:
        detail_of(request, sid)
        who = pages.user(request)
        if not who.may_open_content:
            raise PageError(403, "content_contract")
        try:
            name, media, data = content_file(app, who, sid, position)
        except NotFound:
            raise PageError(404, "not_found") from None
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        return Response(
            data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{safe}"'},
        )

    def data_page(request: Request, **extra: Any) -> Response:
        who = pages.user(request)
        with app.sessions() as session:
            found = {e.seq: e for a in who.addresses for e in entries_about(session, a)}
        entries = [found[k] for k in sorted(found, reverse=True)][:500]
        return pages.render(request, "data.html", entries=entries, **extra)

    @router.get("/moje-udaje", response_class=HTMLResponse)
    def my_data(request: Request) -> Response:
        return data_page(request)

    @router.post("/moje-udaje/vypis", response_class=HTMLResponse)
    async def export(request: Request) -> Response:
        await pages.form(request)
        who = pages.user(request)
        exp = await run_in_threadpool(documents.personal_export, app, who.email, actor=who.actor)
        links = {
            "pdf_url": documents.download_link(app, "exports", exp.pdf_key),
            "data_url": documents.download_link(app, "exports", exp.data_key),
        }
        return data_page(request, export=links)

    return router


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
