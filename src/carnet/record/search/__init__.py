"""FHIR R4 search over the record's index tables.

``parse`` reads the parameters (``conditions`` for one parameter, ``controls`` for _count,
_sort, _include...) into the typed ``model``, checked against ``catalog`` (what is offered per
type); ``compile`` turns conditions into SQLAlchemy Core over ``record_resource`` and the index
tables; ``run`` executes a page (``paging``: keyset order and sealed cursors) and totals;
``includes`` adds what _include/_revinclude ask; ``summary`` applies _summary and _elements.
The repository's ``Searches`` mixin (``record.searches``) decides access and audits.

Invariants: access is part of every SQL statement (totals never count what the actor may not
see); identifying values are only ever compared as keyed hashes; errors name the parameter,
never a searched value. May import what the record area may.
"""
