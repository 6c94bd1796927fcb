"""Care: what the bank does for its customers once it has decided about them.

Retention tasks for relationship managers, campaigns, consent, loyalty, the
outbox of messages to send and the :class:`~lifecycle.care.notifier.Notifier`
port through which the outbox's dispatcher hands each message to a channel.

This package belongs to the domain: it reads the store, never ``integration``,
and never imports Prefect or apprise (the apprise adapter of the port lives in
``notifications/``; an import-linter contract enforces both).
"""
