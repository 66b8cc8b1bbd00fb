"""``/opposition``: refusing one's space before it opens (the activation code of the notice,
the NIR, the Carte Vitale serial number and the birth date); ``/opposition/attestation``: the
PDF proof; ``/opposition/demander-un-profil``: changing one's mind and asking for the space.

No sign-in: the details are the proof. Every refusal is a form message (or an alert for a
lockout or a closed window) and a 4xx; the service counts, audits and writes nothing else
(``enrollment.opposition``). The proof is downloaded by a POST carrying a ticket bound to this
browser's CSRF nonce and valid a few minutes: no identifier in any URL, and a ticket copied to
another browser opens nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.core.errors import ClientError, NotFound
from carnet.enrollment.service import Enrollment
from carnet.web.csrf import STATE_KEY, CsrfState
from carnet.web.enrollment import opposition_forms as forms
from carnet.web.forms import Form
from carnet.web.rendering import Portal


def _binding(request: Request) -> str:
    """This browser's CSRF nonce: what a proof ticket is bound to."""
    state = (request.scope.get("state") or {}).get(STATE_KEY)
    return state.nonce if isinstance(state, CsrfState) and not state.fresh else ""


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


class OppositionPages:
    def __init__(self, portal: Portal, enrollment: Enrollment) -> None:
        self.portal = portal
        self.enrollment = enrollment
        self.service = enrollment.opposition

    async def oppose_page(self, request: Request) -> Response:
        context = forms.oppose_context(Form())
        return self.portal.render(request, "enrollment/opposition_form.html", context)

    async def oppose(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, (*forms.OPPOSE_FIELDS, "scope", "child_nir"))
        birth = forms.check_opposition(form, today=self.service.today())
        template = "enrollment/opposition_form.html"
        if not form.valid or birth is None:
            return self.portal.render(
                request, template, forms.oppose_context(form), status_code=400
            )
        values, address = form.values, _address(request)
        try:
            receipt = await self.portal.in_transaction(
                lambda db: self.service.oppose_online(
                    db,
                    nir=values["nir"],
                    code=values["code"],
                    vitale_serial=values["vitale_serial"],
                    birth_date=birth,
                    client_address=address,
                    for_children=values["scope"] == forms.SCOPE_FAMILY,
                    child_nir=values["child_nir"] if values["scope"] == forms.SCOPE_CHILD else None,
                )
            )
        except ClientError as error:
            status, alert = forms.refusal(form, error)
            context = forms.oppose_context(form, alert=alert)
            return self.portal.render(request, template, context, status_code=status)
        binding = _binding(request)
        ticket = self.service.proof_ticket(receipt, binding=binding)
        children = [
            (c.reference, self.service.proof_ticket(c, binding=binding)) for c in receipt.children
        ]
        context = forms.done_context(
            receipt, ticket, children=children, for_child=values["scope"] == forms.SCOPE_CHILD
        )
        return self.portal.render(request, "enrollment/opposition_done.html", context)

    async def proof(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("reference", "ticket"))
        values, binding = form.values, _binding(request)
        try:
            pdf = await self.portal.in_transaction(
                lambda db: self.service.proof_by_ticket(
                    db,
                    reference=values["reference"][:24],
                    ticket=values["ticket"][:100],
                    binding=binding,
                )
            )
        except NotFound:
            context = forms.expired_context()
            return self.portal.render(
                request, "enrollment/opposition_expired.html", context, status_code=404
            )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "content-disposition": 'attachment; filename="attestation-opposition.pdf"',
                "cache-control": "no-store",
            },
        )

    async def ask_page(self, request: Request) -> Response:
        context = forms.ask_context(Form())
        return self.portal.render(request, "enrollment/opposition_ask.html", context)

    async def ask(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, (*forms.IDENTITY_FIELDS, "child_nir"))
        birth = forms.check_identity(form, today=self.service.today())
        child_nir = "".join(form.values["child_nir"].split()).upper() or None
        template = "enrollment/opposition_ask.html"
        if not form.valid or birth is None:
            return self.portal.render(request, template, forms.ask_context(form), status_code=400)
        values, address = form.values, _address(request)
        try:
            answer = await self.portal.in_transaction(
                lambda db: self.service.ask_for_space(
                    db,
                    nir=values["nir"],
                    vitale_serial=values["vitale_serial"],
                    birth_date=birth,
                    client_address=address,
                    sms_available=self.enrollment.sms_available,
                    child_nir=child_nir,
                )
            )
        except ClientError as error:
            status, alert = forms.refusal(form, error)
            context = forms.ask_context(form, alert=alert)
            return self.portal.render(request, template, context, status_code=status)
        context = forms.asked_context(answer.sent_to, child=child_nir is not None)
        return self.portal.render(request, "enrollment/opposition_asked.html", context)


def build_router(portal: Portal) -> APIRouter:
    """The opposition pages (none without the enrollment service)."""
    router = APIRouter()
    enrollment = portal.deps.enrollment
    if enrollment is None or portal.deps.transaction is None:
        return router
    pages = OppositionPages(portal, enrollment)
    routes = [
        (forms.OPPOSE_PATH, pages.oppose_page, "GET"),
        (forms.OPPOSE_PATH, pages.oppose, "POST"),
        (forms.PROOF_PATH, pages.proof, "POST"),
        (forms.ASK_PATH, pages.ask_page, "GET"),
        (forms.ASK_PATH, pages.ask, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)

    # The activation pages link to this older address: send it on.
    async def ask_elsewhere(_request: Request) -> Response:
        return RedirectResponse(forms.ASK_PATH, status_code=308)

    router.add_api_route(
        "/opposition/demande", ask_elsewhere, methods=["GET"], include_in_schema=False
    )
    return router
