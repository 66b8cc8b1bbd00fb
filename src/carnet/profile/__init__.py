"""The medical profile the person keeps: diseases, treatments, hospitalisations, disabilities,
allergies, family history, lifestyle, blood group, "not concerned" declarations.

Invariants: every item is a FHIR resource in the person's compartment, written through the
record's Repository and tagged ``urn:carnet:profil|profil-medical`` (``codes``); a refused entry
stores nothing (every check runs before the first write); a section holding items has no "not
concerned" declaration; deleting an item removes the links other items had to it. The person
shares the profile with professionals as a summary document (the tag lets access hold the items
themselves back). May import: record (service, schemas, errors), core.
"""
