"""FHIR operations, one per module (DESIGN.md §8.3): ``$everything``, ``$export``,
``$validate``."""
