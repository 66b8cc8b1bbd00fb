"""Documents in the person's space: categories, uploads, visibility labels, folders and pins.

Invariants: documents are DocumentReference + Binary resources written and read only through the
record's Repository (which decides and audits); uploads are checked (type sniffed from content,
size, active content) before anything is stored; the patient deletes only what they added.
May import: record (service, schemas, errors), access (service, schemas), notify, storage
(service), core.
"""
