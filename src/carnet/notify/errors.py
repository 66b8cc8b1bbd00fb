"""Errors of the notify area.

core.errors.InvalidInput
 ├── UnknownTemplate      no such message kind (or it has no e-mail / SMS form)
 ├── InvalidContext       a template variable is missing, unexpected, or looks like an identifier
 └── InvalidRecipient     not an e-mail address / an E.164 phone number
core.errors.CarnetError
 ├── SmsUnavailable       no SMS provider is configured (CARNET_NOTIFY__SMS_BACKEND=none)
 └── DeliveryRefused      the relay refused the message for good (no retry helps)
"""

from __future__ import annotations

from carnet.core.errors import CarnetError, InvalidInput


class UnknownTemplate(InvalidInput):
    pass


class InvalidContext(InvalidInput):
    pass


class InvalidRecipient(InvalidInput):
    pass


class SmsUnavailable(CarnetError):
    pass


class DeliveryRefused(CarnetError):
    pass
