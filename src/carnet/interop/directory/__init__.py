"""The Annuaire Santé public extract (PS_LibreAcces ``Personne_activite``): its columns
(``columns``), streaming reader (``reader``), per-line checks (``lines``), grouping into FHIR
resources (``grouping``) and a writer for synthetic files (``writer``). Pure: no database."""
