"""Federated sign-in: Carnet as an OpenID Connect relying party of FranceConnect (patients) and
Pro Santé Connect (professionals).

Invariants:
- A provider is off unless configured (an issuer and a client id); its endpoints and keys come
  from its discovery document, whose ``issuer`` must be exactly the configured one.
- Every sign-in is an authorization code flow with PKCE (S256), a state and a nonce, kept
  sealed in the browser that started it and good for a few minutes; the id_token is verified
  (signature with the provider's JWKS, iss, aud, azp, exp, iat, nonce) and its ``acr`` must
  reach the required eIDAS level, whatever was asked.
- The person is *found*, never created: a FranceConnect identity must match exactly one known
  patient on every INS trait; a Pro Santé Connect identity must carry a valid RPPS (Luhn) held by
  an active Practitioner of the directory. Refusals name a reason code, never who exists.
- No identifier in logs or error messages: reasons are codes, claims stay in memory.
Other areas use ``service``, ``schemas`` and ``errors``; the candidate patients and
practitioners come from the caller (the record is above this area), through ``ports``.
May import: identity, audit, core (never record, access or an HTTP framework).
"""
