"""Documents in the person's space: categories, uploads, visibility labels, folders and pins.

Invariants: documents are DocumentReference + Binary resources written and read only through the
record's Repository (which decides and audits); uploads are checked (type sniffed from content,
size, active content) before anything is stored; the patient deletes only what they added, and
changes only the visibility of anyone else's documents; a document released to the patient
(``INVISIBLE_PATIENT`` lifted) is never hidden from them again. Folders are FHIR Lists, pins a
``meta.tag``, the default confidentiality a ``Basic`` resource: all in the patient's compartment.
Modules: ``service`` (the public functions), ``schemas``, ``errors``; inside: ``checks`` and
``pdf_scan`` (uploads), ``categories`` (+ ``data/type-code-categories.csv``), ``resources``
(FHIR shapes), ``store`` (repository calls), ``listing``, ``folders``, ``labels``,
``preferences``.
May import: record (service, schemas, errors), access (service, schemas), jobs (service),
notify, storage (service), core.
"""
