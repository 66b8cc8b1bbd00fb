"""CDA R2 documents (the French CI-SIS profiles), read safely: pure functions over bytes.

``parse`` reads untrusted XML with a hardened parser (no DTD, no entity, no network, size and
depth bounded); ``render`` makes a safe HTML fragment of a document for the patient's viewer;
``text`` extracts its words for the full-text index.

Invariants:
- Nothing here touches a database, a file or the network: bytes in, values out.
- A DOCTYPE is refused outright, so no entity can be declared, expanded or fetched.
- Rendered HTML is built from a whitelist of elements; every text is escaped; no attribute of
  the document is copied except integer ``colspan``/``rowspan``; no URL is ever emitted.
May import: core only (no sqlalchemy, nothing else of carnet).
"""
