"""The authorization server: OAuth 2 / OpenID Connect / SMART App Launch (Authlib).

For now: system clients (SMART Backend Services) with the client-credentials grant,
``private_key_jwt`` client authentication (``client_secret_basic`` in dev), signed JWT access
tokens carrying SMART v2 scopes, and the SMART discovery document.
Invariants: client secrets are stored hashed; assertion ids (jti) are single-use; tokens are
short-lived; every issued or refused token is audited.
May import: enrollment, messaging, agenda, catalogue, interop, record, access, identity, notify,
audit, storage, jobs, core; and Starlette/FastAPI for its endpoints.
"""
