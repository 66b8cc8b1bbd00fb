"""Who is calling: a bearer token becomes an AccessContext.

The token's scopes are checked against the interaction before the repository is asked: a client
without any scope for a resource type gets 403 (insufficient scope), which says nothing about the
data. Decisions that depend on the data (whose compartment, which document) are the repository's,
and their refusals look like absence.
"""

from __future__ import annotations

from starlette.requests import Request

from carnet.access import service as access_service
from carnet.access.schemas import AccessContext, Action
from carnet.authz.service import Authz
from carnet.core.actor import Actor, ActorKind
from carnet.core.errors import Forbidden, Issue, Unauthenticated

_SCOPE_CONTEXT = {
    ActorKind.SYSTEM: "system",
    ActorKind.PATIENT: "patient",
    ActorKind.PROFESSIONAL: "user",
}


def access_context(request: Request, authz: Authz) -> AccessContext:
    """The caller's context from ``Authorization: Bearer …``; Unauthenticated otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A bearer access token is required.")
    claims = authz.verify_access_token(token.strip())
    actor = Actor(kind=ActorKind(claims.actor_kind), id=claims.client_id, label=claims.client_name)
    return AccessContext(actor=actor, scopes=access_service.ScopeSet.parse(claims.scopes))


def require_scope(ctx: AccessContext, resource_type: str, action: Action) -> None:
    """Refuse (403) a client whose token grants no ``action`` on ``resource_type`` at all."""
    context = _SCOPE_CONTEXT.get(ctx.actor.kind)
    if context is not None and ctx.scopes.permits(context, resource_type, action.value):
        return
    issue = Issue(
        code="forbidden",
        diagnostics=f"The access token has no scope allowing '{action.value}' on {resource_type}.",
    )
    raise Forbidden("insufficient scope", issues=[issue])
