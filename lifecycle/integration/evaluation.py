"""Measure identity resolution against ground truth (pairwise precision/recall).

Two source records are a true pair when the truth gives them one person, and a
predicted pair when the store links them to one customer. Only records present
in both (loaded and known to the truth) are compared, so quarantined rows do
not count either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class PairScores:
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(predicted: pd.DataFrame, truth: pd.DataFrame) -> PairScores:
    """``predicted``: source, source_key, customer_id; ``truth``: source, source_key, person_id."""
    keys = ["source", "source_key"]
    both = predicted[[*keys, "customer_id"]].astype({"source_key": str}).merge(
        truth[[*keys, "person_id"]].astype({"source_key": str}), on=keys, how="inner")
    return PairScores(
        records=len(both),
        true_pairs=_pairs(both.groupby("person_id").size()),
        predicted_pairs=_pairs(both.groupby("customer_id").size()),
        correct_pairs=_pairs(both.groupby(["customer_id", "person_id"]).size()),
    )
