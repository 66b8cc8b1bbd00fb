"""The person's contacts: ``/volontes/contacts/ajouter``, ``…/{id}/modifier`` and
``…/{id}/supprimer`` (a confirmation page, then the deletion).

A refused contact re-shows the form with a message per field and a 400 (a second trusted
person: a 409); nothing is stored. A contact of another space is a 404, as if absent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from carnet.record.service import Repository
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient import circle_text as text
from carnet.web.patient.circle_pages import (
    CONTACT_ADD,
    CONTACT_DELETE,
    CONTACT_EDIT,
    INDEX,
    CirclePages,
    done,
    path_id,
)
from carnet.web.rendering import Portal
from carnet.wishes import service as wishes
from carnet.wishes.errors import ContactNotFound, InvalidContact, SecondTrustedPerson
from carnet.wishes.schemas import Contact, ContactInput, ContactRole, Relation

FIELDS: Final = ("first_name", "last_name", "relation", "mobile", "postal_code", "city")


def contact_input(data: FormData) -> tuple[Form, ContactInput]:
    """The submitted contact: the form (to show again) and the service's input."""
    form = Form.from_submission(data, FIELDS)
    roles = tuple(str(role) for role in data.getlist("roles"))[: len(ContactRole) + 1]
    values = form.values
    contact = ContactInput(
        first_name=values["first_name"],
        last_name=values["last_name"],
        relation=values["relation"],
        mobile=values["mobile"],
        postal_code=values["postal_code"],
        city=values["city"],
        roles=roles,
    )
    return form, contact


def form_of(contact: Contact) -> tuple[Form, tuple[str, ...]]:
    """A contact on file as the edit form shows it."""
    values = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "relation": contact.relation.value,
        "mobile": contact.mobile_display,
        "postal_code": contact.postal_code,
        "city": contact.city,
    }
    return Form(values=values), tuple(sorted(role.value for role in contact.roles))


def _anchor(field: str) -> str:
    return f"roles-{ContactRole.EMERGENCY_CONTACT.value}" if field == "roles" else field


def form_context(
    form: Form, roles: tuple[str, ...], *, action: str, editing: bool
) -> dict[str, Any]:
    return {
        "title": N_("Modifier un contact") if editing else N_("Ajouter un contact"),
        "form": form,
        "checked_roles": roles,
        "action": action,
        "roles": text.ROLES,
        "role_hints": text.ROLE_HINTS,
        "relations": text.RELATIONS,
        "relation_choices": list(Relation),
        "index_path": INDEX,
    }


class ContactPages(CirclePages):
    """Add, edit, delete a contact."""

    async def add_page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        context = form_context(Form(), (), action=CONTACT_ADD, editing=False)
        return self.render(request, "contact_form", context)

    async def edit_page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        contact = await self._contact(acting, path_id(request, "contact_id"))
        form, roles = form_of(contact)
        action = CONTACT_EDIT.format(contact_id=contact.id)
        return self.render(
            request, "contact_form", form_context(form, roles, action=action, editing=True)
        )

    async def _contact(self, acting: Any, contact_id: str) -> Contact:
        try:
            return await self.space.run(
                acting,
                lambda repo, _db: wishes.get_contact(
                    repo, patient_id=acting.patient_id, contact_id=contact_id
                ),
            )
        except ContactNotFound:
            raise HTTPException(404) from None

    async def add(self, request: Request) -> Response:
        return await self._save(request, contact_id=None)

    async def edit(self, request: Request) -> Response:
        return await self._save(request, contact_id=path_id(request, "contact_id"))

    async def _save(self, request: Request, *, contact_id: str | None) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0, max_fields=30) as data:
            form, contact = contact_input(data)
        pid = acting.patient_id

        def work(repo: Repository, _db: Any) -> Contact:
            if contact_id is None:
                return wishes.add_contact(repo, patient_id=pid, contact=contact)
            return wishes.update_contact(
                repo, patient_id=pid, contact_id=contact_id, contact=contact
            )

        try:
            await self.space.run(acting, work)
        except ContactNotFound:
            raise HTTPException(404) from None
        except InvalidContact as exc:
            for field, reason in exc.problems:
                form.add_error(field, text.CONTACT_ERRORS[(field, reason)], anchor=_anchor(field))
            status = 400
        except SecondTrustedPerson:
            form.add_error("roles", text.SECOND_TRUSTED, anchor=_anchor("roles"))
            status = 409
        else:
            return done(INDEX, "contact-ajoute" if contact_id is None else "contact-modifie")
        action = CONTACT_ADD if contact_id is None else CONTACT_EDIT.format(contact_id=contact_id)
        context = form_context(form, contact.roles, action=action, editing=contact_id is not None)
        return self.render(request, "contact_form", context, status)

    async def delete_page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        contact = await self._contact(acting, path_id(request, "contact_id"))
        context = {
            "title": N_("Supprimer un contact"),
            "contact": contact,
            "action": CONTACT_DELETE.format(contact_id=contact.id),
            "index_path": INDEX,
        }
        return self.render(request, "contact_delete", context)

    async def delete(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        contact_id = path_id(request, "contact_id")
        try:
            await self.space.run(
                acting,
                lambda repo, _db: wishes.delete_contact(
                    repo, patient_id=acting.patient_id, contact_id=contact_id
                ),
            )
        except ContactNotFound:
            raise HTTPException(404) from None
        return done(INDEX, "contact-supprime")


def routes(portal: Portal) -> list[tuple[str, Callable[[Request], Any], str]]:
    pages = ContactPages(portal)
    return [
        (CONTACT_ADD, pages.add_page, "GET"),
        (CONTACT_ADD, pages.add, "POST"),
        (CONTACT_EDIT, pages.edit_page, "GET"),
        (CONTACT_EDIT, pages.edit, "POST"),
        (CONTACT_DELETE, pages.delete_page, "GET"),
        (CONTACT_DELETE, pages.delete, "POST"),
    ]
