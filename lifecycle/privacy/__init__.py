"""PII protection primitives: keyring, envelope encryption, field encryption, blind
indexes, display masking and log redaction (JR/T 0171-2020, PIPL).

Pure library: no database, no Prefect. Import the submodules directly, e.g.
``from lifecycle.privacy.fields import encrypt_frame``.
"""
