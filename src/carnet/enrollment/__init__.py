"""Opening and closing spaces. Today: the insurer's beneficiary registry (``registry_file``,
``validation``, ``registry_import``); notification waves, opposition, activation,
representatives, closure and retention come next.

Invariants:
- A beneficiary is found by a blind index of their NIR, never by the NIR in clear; every
  identifying value (NIR, Vitale serial, names, birth, address, contacts, death) is sealed with
  the person's own data key, the one their space will use, so crypto-shredding the person erases
  their registry data too. Only the département and the status are stored in clear (waves are
  planned by département).
- A registry line is applied whole or not at all; reports and logs name lines, columns and
  rules, never values.
May import: record, access, identity, notify, audit, storage, jobs, core.
"""
