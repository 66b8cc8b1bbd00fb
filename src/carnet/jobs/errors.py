"""Errors of the jobs area.

core.errors.CarnetError
 └── UnknownJobKind   a job names a kind no handler is registered for (it is parked)
"""

from __future__ import annotations

from carnet.core.errors import CarnetError


class UnknownJobKind(CarnetError):
    pass
