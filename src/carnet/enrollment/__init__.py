"""Opening and closing spaces, the whole life cycle of a person's space:

- the insurer's beneficiary registry (``registry_file``, ``validation``, ``registry_import``,
  ``registry_apply``);
- notification waves (``campaigns``, ``notices``, letters in ``letters``/``letter_batches``) and
  activation codes (``enrollment_codes``, ``code_requests``);
- opposition within the window (``opposition``, ``opposition_checks``, ``opposition_proof``,
  ``space_requests`` for a change of mind);
- automatic opening once the window has ended (``opening``), activation by the person
  (``activation``, ``activation_steps``, ``activation_tickets``, ``activation_federation``);
- children, representatives and caregivers (``families``, ``caregivers``, ``majority``);
- closure, suspension, reopening and retention (``closure``, ``closure_steps``,
  ``suspension``, ``reopening``, ``retention``);
- the operators' read models (``console``).

Statuses (``schemas.BeneficiaryStatus``): registered → notified | letter-due → opposed | open →
active → suspended → closed → erased; deceased for a death before any space.

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
- Families and caregivers (``families``, ``caregivers``, ``majority``): only the holder the
  registry names and one invited second representative act for a child, until 18; at most 3
  caregivers per person and 5 persons per caregiver, pending invitations included.
May import: record, access, identity, notify, audit, storage, jobs, core.
"""
