"""The vaccination record and the French vaccination schedule.

Invariants: vaccinations are FHIR Immunizations written through the record's Repository
(``resources`` says how each field maps, and why ``primarySource`` is false for what a patient
types); only a professional's write may mark one as validated, and the patient's side may not
change or delete a validated one; the vaccine referential (``data/vaccines.json``) and the
schedule (``data/schedule.json``) are data; what is done, due, overdue and upcoming is a pure
function of the person's birth date, sex, vaccinations and the day (``planner``), whose output
(``schemas.ScheduleStatus``) the agenda turns into reminders.

Modules: ``service`` (the public functions), ``schemas``, ``errors``; ``referential``,
``schedule`` (the data and its ages), ``planner``, ``resources`` (FHIR mapping).
May import: record (service, schemas, errors), core.
"""
