"""The bank's labels and named customer groups, per customer and as-of date, with their reasons.

``config`` reads ``lifecycle/config/labels.yaml`` (labels, regions, groups and the
names' templates); ``labels`` computes every label for all customers at once;
``groups`` refreshes the groups' membership (joined / left, with reasons) and
names them, refusing a name that would carry personal data; ``service`` is the
step the daily flow runs after deciding a date.
"""
