"""Pairwise identity scores count merges and splits correctly."""

from __future__ import annotations

import pandas as pd

from lifecycle.integration.evaluation import pairwise_scores


def test_a_wrong_merge_lowers_precision_and_a_missed_link_lowers_recall() -> None:
    truth = pd.DataFrame({"source": ["a", "b", "a", "b"], "source_key": ["1", "1", "2", "2"],
                          "person_id": ["P1", "P1", "P2", "P2"]})
    predicted = pd.DataFrame({"source": ["a", "b", "a", "b"], "source_key": ["1", "1", "2", "2"],
                              "customer_id": [10, 10, 10, 11]})
    scores = pairwise_scores(predicted, truth)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (2, 3, 1)
    assert scores.precision == 1 / 3 and scores.recall == 1 / 2


def test_records_missing_from_either_side_are_ignored() -> None:
    truth = pd.DataFrame({"source": ["a", "b"], "source_key": ["1", "1"], "person_id": ["P1", "P1"]})
    predicted = pd.DataFrame({"source": ["a"], "source_key": ["1"], "customer_id": [10]})
    scores = pairwise_scores(predicted, truth)
    assert scores.records == 1 and scores.precision == 1.0 and scores.recall == 1.0
