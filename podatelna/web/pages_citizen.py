"""Citizen pages: send a form, "My filings", a filing's detail, receipts and copies, "My data".

Sending: the form is validated against its XSD *before* it is filed, so a form with errors is
shown again with every error in place (line, column, path) and nothing is filed; a valid form is
filed through the same intake as the API, in the logged-in person's name. Every page that names
a submission checks ownership through ``podatelna.web.filings.owned``.
"""

from __future__ import annotations

import io
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
from podatelna.web.auth import Principal
from podatelna.web.filings import content_file, form_name, my_submissions, owned, signature_summary
from podatelna.web.i18n import translator
from podatelna.web.pages import PageError, Pages, lang_of
from podatelna.web.xsdform import build_xml, generated_form, simple_codes
from validators import XmlLimits, validate_form

#: file parts of the send form, and the role each gets at intake
_ROLES = {"attachments": "attachment", "signatures": "signature"}


def citizen_pages(pages: Pages) -> APIRouter:
    app = pages.app
    router = APIRouter(include_in_schema=False)

    def forms() -> list[schemas.FormType]:
        return sorted(schemas.catalogue().values(), key=lambda f: f.name_cs)

    def simple() -> list[schemas.FormType]:
        return [f for f in forms() if f.code in simple_codes()]

    @router.get("/podat", response_class=HTMLResponse)
    def send_form(request: Request) -> Response:
        pages.user(request)
        chosen = request.query_params.get("form_type", "")
        return pages.render(
            request, "send.html", forms=forms(), chosen=chosen, issues=[], simple=simple()
        )

    async def parse(request: Request) -> multipart.Parsed:
        """The multipart body of a send form, within the intake limits, after the CSRF check."""
        parsed = await multipart.parse(
            request.headers.get("content-type", ""), request.stream(), app.intake_limits
        )
        try:
            pages.check_csrf(request, parsed.fields.get("csrf", ""))
        except PageError:
            parsed.close()
            raise
        return parsed

    async def check_and_file(
        who: Principal,
        name: str,
        data: bytes,
        parts: list[multipart.Part],
        confirms: str,
        chosen: str,
        t: Any,
    ) -> list[dict[str, Any]] | str:
        """Validate the form against its XSD; file it if valid. The errors, or the new id."""
        lim = app.settings.limits
        result = await run_in_threadpool(
            validate_form,
            data,
            limits=XmlLimits(max_bytes=lim.max_form_bytes, max_depth=min(lim.max_xml_depth, 256)),
        )
        if not result.ok:
            return [i.to_dict() for i in result.errors]
        if chosen and result.form_type != chosen:
            return [{"message": t("send_type_mismatch")}]
        incoming = Incoming(
            channel="portal",
            sender=Sender(who.email, who.full_name),
            form=IncomingFile(
                name, io.BytesIO(data), role="form", declared_media_type="application/xml"
            ),
            attachments=[
                IncomingFile(
                    p.filename or "unnamed",
                    p.file,  # type: ignore[arg-type]
                    role=_ROLES[p.name],
                    declared_media_type=p.content_type,
                )
                for p in parts
                if p.name in _ROLES and p.filename and p.size > 0 and p.file
            ],
            confirms_reference=confirms.strip() or None,
        )
        try:
            acc = await run_in_threadpool(file_submission, app, incoming)
        except IntakeError as exc:
            return [{"message": exc.message}]
        return acc.submission_id

    @router.post("/podat", response_class=HTMLResponse)
    async def send(request: Request) -> Response:
        who = pages.user(request)
        t = translator(lang_of(request))
        chosen = ""

        def again(issues: list[Any], status: int = 422) -> Response:
            return pages.render(
                request,
                "send.html",
                status=status,
                forms=forms(),
                chosen=chosen,
                issues=issues,
                simple=simple(),
            )

        if not who.verified:
            return again([], 403)
        try:
            parsed = await parse(request)
        except IntakeError as exc:
            return again([{"message": exc.message}], exc.status)
        try:
            chosen = parsed.fields.get("form_type", "")
            form = next((p for p in parsed.files if p.name == "form" and p.size and p.file), None)
            if form is None or form.file is None:
                return again([{"message": t("send_no_file")}])
            form.file.seek(0)
            data = form.file.read(app.settings.limits.max_form_bytes + 1)
            outcome = await check_and_file(
                who,
                form.filename or "form.xml",
                data,
                parsed.files,
                parsed.fields.get("confirms_reference", ""),
                chosen,
                t,
            )
        finally:
            parsed.close()
        if isinstance(outcome, list):
            return again(outcome)
        return pages.redirect(f"/moje-podani/{outcome}", "sent")

    def fill_page(
        request: Request, code: str, values: dict[str, str], issues: list[Any], status: int = 200
    ) -> Response:
        form = generated_form(code)
        if form is None:
            raise PageError(404, "not_found")
        return pages.render(
            request,
            "fill.html",
            status=status,
            form=form,
            values=values,
            issues=issues,
            title=form_name(code, lang_of(request)),
        )

    @router.get("/podat/vyplnit/{code}", response_class=HTMLResponse)
    def fill(code: str, request: Request) -> Response:
        pages.user(request)
        return fill_page(request, code, {}, [])

    @router.post("/podat/vyplnit/{code}", response_class=HTMLResponse)
    async def fill_post(code: str, request: Request) -> Response:
        who = pages.user(request)
        form = generated_form(code)
        if form is None:
            raise PageError(404, "not_found")
        if not who.verified:
            return pages.redirect("/podat")
        t = translator(lang_of(request))
        try:
            parsed = await parse(request)
        except IntakeError as exc:
            return fill_page(request, code, {}, [{"message": exc.message}], exc.status)
        try:
            values = {f.path: parsed.fields.get(f.path, "") for f in form.fields()}
            data = build_xml(form, values)
            outcome = await check_and_file(who, f"{code}.xml", data, parsed.files, "", code, t)
        finally:
            parsed.close()
        if isinstance(outcome, list):
            return fill_page(request, code, values, outcome, 422)
        return pages.redirect(f"/moje-podani/{outcome}", "sent")

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
            entries = entries_about(session, *who.addresses)[::-1][:500]
        return pages.render(request, "data.html", entries=entries, **extra)

    @router.get("/moje-udaje", response_class=HTMLResponse)
    def my_data(request: Request) -> Response:
        return data_page(request)

    @router.post("/moje-udaje/vypis", response_class=HTMLResponse)
    async def export(request: Request) -> Response:
        await pages.form(request)
        who = pages.user(request)
        exp = await run_in_threadpool(
            documents.personal_export, app, who.email, actor=who.actor, former=who.addresses
        )
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
