"""The canonical store: SQLAlchemy 2.0 models, engine set-up, bulk upserts."""
