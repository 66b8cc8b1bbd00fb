"""Opening and closing spaces. Today: the insurer's beneficiary registry (``registry_file``,
``validation``, ``registry_import``) and notification waves (``campaigns``, ``notices``,
activation codes in ``enrollment_codes`` and ``code_requests``); opposition, activation,
representatives, closure and retention come next.

Invariants:
- A beneficiary is found by a blind index of their NIR, never by the NIR in clear; every
  identifying value (NIR, Vitale serial, names, birth, address, contacts, death) is sealed with
  the person's own data key, the one their space will use, so crypto-shredding the person erases
  their registry data too. Only the département and the status are stored in clear (waves are
  planned by département).
- A registry line is applied whole or not at all; reports and logs name lines, columns and
  rules, never values.
- An activation code exists in clear only in the message that carries it (and the outbox job
  until it is sent); the tables keep a keyed hash. Nobody gets two notices from one campaign,
  and a person leaves ``registered`` in the step that informs them.
May import: record, access, identity, notify, audit, storage, jobs, core.
"""
