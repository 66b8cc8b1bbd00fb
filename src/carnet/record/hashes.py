"""The stable hashes of the search index: parameter ids and 64-bit value hashes (pure).

Both are part of the stored format: changing either means re-indexing every resource.

- ``param_id("Observation", "code")``: the first 31 bits of SHA-256 over ``"Observation.code"``,
  a positive 32-bit integer standing for the pair in every index row (``Definitions`` checks at
  load that no two names of the R4 definitions share one). Pseudo-parameters carrying the rows
  of a modifier are named like the modifier: ``"Observation.code:text"``.
- ``value_hash(text)``: the first 8 bytes of BLAKE2b over the UTF-8 text, read as a signed
  big-endian integer so that it fits a SQL BIGINT. Token codes and systems, reference targets
  (``"Patient/123"``, or an absolute URL as written), units and exact strings are stored this
  way, never in clear. Two values share a hash with probability 2^-64: over the ~10^6 distinct
  codes of a terminology the chance of any collision is ~10^-7; over reference targets it grows
  with the number of resources (some 10^10 at national scale makes a few colliding pairs
  likely), and a collision only matters when both targets are referenced by the same parameter
  from the same patient's compartment; the identifying values of persons use 128-bit keyed
  hashes instead (``blind``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

PARAM_ID_BITS = 31


# Both are pure and called for every index row (about ten a resource): a bounded cache of
# the recent answers saves most of the hashing, as parameters, systems, codes and reference
# targets repeat from one resource to the next.
@lru_cache(maxsize=4096)
def param_id(resource_type: str, name: str) -> int:
    """The index id of a (resource type, parameter or pseudo-parameter) pair."""
    digest = hashlib.sha256(f"{resource_type}.{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - PARAM_ID_BITS)


@lru_cache(maxsize=65536)
def value_hash(text: str) -> int:
    """The signed 64-bit hash of a value (see the module docstring)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def reference_hash(resource_type: str, resource_id: str) -> int:
    """The hash of a local reference target, ``Type/id``."""
    return value_hash(f"{resource_type}/{resource_id}")
