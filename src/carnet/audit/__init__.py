"""The audit trail: an append-only, hash-chained event log.

Invariants:
- Every event belongs to one chain: the patient's it concerns, or the system chain. Each event
  carries its sequence number, the previous event's MAC and its own; a chain-head row holds the
  tail, locked while appending so that concurrent writers never fork a chain.
- The MAC is keyed (the audit key of the keyring), so rewriting a chain consistently needs the key,
  not only write access to the database. ``verify`` recomputes every chain and reports the first
  break: an edited, deleted, inserted or reordered row.
- A patient's access history is a query over their chain, never a copy.
- Events name actors, actions and resource ids; never health data or identifiers.
May import: core.
"""
