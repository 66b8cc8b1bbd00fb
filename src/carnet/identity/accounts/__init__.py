"""Accounts and sign-in: patients', professionals' (development) and operators' accounts,
passwords, second factors (codes by e-mail or SMS, TOTP with recovery codes), server-side
sessions, trusted devices, rate limits and lockout, recovery.

Invariants:
- No secret is stored in a form that gives it back: passwords as argon2id hashes, tokens and
  codes as (keyed) hashes, logins as a blind index, contacts and TOTP secrets sealed.
- A refusal never tells whether a login exists (same error, same cost).
- Every sign-in, failure, lockout, factor change, revocation and operator action is audited;
  no login, address or phone number reaches a log or an audit detail.
Other areas use ``service``, ``schemas`` and ``errors``.
May import: notify, audit, storage, jobs, core.
"""
