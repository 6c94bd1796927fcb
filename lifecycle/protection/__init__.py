"""Data protection operations on the store: key rotation, erasure, audited reveal, the data purge.

The primitives (keyring, envelope and field encryption, blind indexes, masking,
redaction) live in :mod:`lifecycle.privacy`; this package applies them to the
main database and the key store. Pure domain code: no Prefect. The flows in
``flows/`` (``rotate-master-key``, ``erase-customer``, ``purge``) and
the ``bank-lifecycle`` command line call these modules; docs/data-protection.md
describes every stored field, its class and who may reveal it.
"""
