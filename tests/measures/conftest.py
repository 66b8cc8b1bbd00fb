"""The ``space`` fixture: a new holder's repository, in a transaction rolled back after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.measures.measure_space import Space, open_space
from tests.space import make_holder

from carnet.runtime import Runtime


@pytest.fixture
def space(rt: Runtime) -> Iterator[Space]:
    """A new holder (committed), then their repository in a transaction rolled back after."""
    holder = make_holder(rt)
    with rt.database.engine.connect() as conn:
        trans = conn.begin()
        try:
            yield open_space(rt, conn, holder)
        finally:
            trans.rollback()
