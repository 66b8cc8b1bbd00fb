"""Work after commit: the transactional outbox and its workers (DESIGN.md §7).

Invariants:
- A job is a row written in the same transaction as the change that causes it: nothing runs for
  a change that rolled back, nothing is lost if a process dies.
- Workers claim jobs with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), run each handler in
  its own transaction, retry failures with exponential back-off and jitter, and park a job that
  keeps failing (``carnet jobs failed`` lists them; ``carnet jobs retry`` revives them).
- Payloads carry ids, never health data or identifiers; recorded errors carry the exception type
  and a redacted message.
May import: core.
"""
