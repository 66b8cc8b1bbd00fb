"""Keys, envelope encryption and the blob store.

Invariants:
- Health data is encrypted at rest with one data key per patient (AES-256-GCM), itself wrapped by
  a key-encryption key (KEK) read from the keyring file (or, later, a KMS).
- Destroying a patient's data key makes every copy of their resources and blobs unreadable
  (crypto-shredding); reads then raise ``DataKeyDestroyed``, a ``Gone``.
- Identifying values are indexed only as keyed HMACs (blind indexes) made here.
May import: core.
"""
