"""Lifecycle stage: the first configured stage whose conditions hold, with its reasons.

Pure: a features frame in, ``lifecycle_stage`` and ``stage_reasons`` (JSON text)
out. The default stage (last rule, no conditions) gives the reason
``{"rule": "default", ...}`` naming the stage.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lifecycle.decisioning.evaluate import holds, join_reasons, reason_text
from lifecycle.decisioning.rules import StageRule


def decide_stages(features: pd.DataFrame, stages: list[StageRule]) -> pd.DataFrame:
    index = features.index
    stage = pd.Series(None, index=index, dtype=object)
    reasons = pd.Series(None, index=index, dtype=object)
    for rule in stages:
        undecided = stage.isna()
        if not undecided.any():
            break
        if not rule.conditions:
            stage[undecided] = rule.stage
            reasons[undecided] = f'[{{"rule": "default", "value": {json.dumps(rule.stage)}, "threshold": null}}]'
            break
        checks = [(c, holds(c, features)) for c in rule.conditions]
        matched = np.logical_and.reduce([h for _, h in checks]) if rule.match == "all" else \
            np.logical_or.reduce([h for _, h in checks])
        chosen = undecided & pd.Series(matched, index=index)
        if not chosen.any():
            continue
        rows = features[chosen]
        parts = [reason_text(c, rows).where(h[chosen]) for c, h in checks]
        stage[chosen] = rule.stage
        reasons[chosen] = join_reasons(parts, rows.index)
    return pd.DataFrame({"lifecycle_stage": stage, "stage_reasons": reasons})
