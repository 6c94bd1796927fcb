"""Loading validated batches into the canonical store (bulk, idempotent)."""
