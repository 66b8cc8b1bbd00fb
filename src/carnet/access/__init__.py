"""Access decisions: who may do what to which part of a record.

Invariants:
- Decisions are pure functions of plain values (the AccessContext and the facts about a
  resource), so they are cheap, cacheable per request and tested as tables.
- This area never reads the record itself: the record repository hands it the facts and applies
  the decision (filtering, and making a refusal look like absence).
May import: identity, notify, audit, storage, jobs, core (never record).
"""
