"""Carnet: a national personal health space.

Every insured person has a space holding their health record as FHIR R4 resources and documents,
shared with the professionals who care for them under the person's control. The package is a
modular monolith; ``../shared/DESIGN.md`` (mirrored in ``docs/architecture.md``) gives the areas
and the layers that import-linter enforces.
"""
