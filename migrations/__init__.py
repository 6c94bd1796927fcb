"""Alembic migrations of the canonical schema (packaged so an installed platform can upgrade its database)."""
