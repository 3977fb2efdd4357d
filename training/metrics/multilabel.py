"""Multi-label species metrics in numpy: macro ROC-AUC (BirdCLEF 2025) and padded cmAP (2021-23).

- :func:`roc_auc`: rank-based (Mann-Whitney U) with average ranks for ties, equal to
  ``sklearn.metrics.roc_auc_score`` for one class.
- :func:`macro_roc_auc`: the mean over classes that have both positives and negatives (BirdCLEF
  2025 scores only classes with at least one positive; a class that is positive in every row has no
  defined AUC and is skipped as well).
- :func:`average_precision`: sklearn's step-wise AP (``sum (R_n - R_{n-1}) P_n`` over distinct
  score thresholds), equal to ``sklearn.metrics.average_precision_score`` for one class.
- :func:`padded_cmap`: append ``pad_rows`` rows of ones to both truth and scores, then the macro
  mean of per-class AP (the padding makes every class count and damps classes with few positives).
- :func:`species_scores`: both from a classifier's logits, as training and the gate report them.

``y_true`` is (N, K) of 0/1, ``y_score`` (N, K) of any real scores (logits or probabilities).
"""

from __future__ import annotations

import numpy as np


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank (like ``scipy.stats.rankdata``)."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    ends = np.r_[starts[1:], values.size]
    group_rank = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """ROC-AUC of one class; ``nan`` when it has no positives or no negatives."""
    y_true = np.asarray(y_true).reshape(-1).astype(bool)
    y_score = np.asarray(y_score, dtype=np.float64).reshape(-1)
    n_pos = int(y_true.sum())
    n_neg = y_true.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(y_score)
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _check(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.ndim != 2 or y_true.shape != y_score.shape:
        raise ValueError(f"y_true and y_score must both be (N, K); got {y_true.shape} and {y_score.shape}")
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError("y_true must hold only 0 and 1")
    return y_true.astype(np.int64), y_score


def macro_roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean ROC-AUC over classes with positives and negatives; ``nan`` if there are none."""
    y_true, y_score = _check(y_true, y_score)
    aucs = [roc_auc(y_true[:, k], y_score[:, k]) for k in range(y_true.shape[1])]
    scored = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(scored)) if scored else float("nan")


def average_precision(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """sklearn-style AP of one class; ``nan`` when there are no positives."""
    y_true = np.asarray(y_true).reshape(-1).astype(np.float64)
    y_score = np.asarray(y_score, dtype=np.float64).reshape(-1)
    n_pos = y_true.sum()
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-y_score, kind="mergesort")
    scores, truth = y_score[order], y_true[order]
    last_of_group = np.r_[np.flatnonzero(scores[1:] != scores[:-1]), scores.size - 1]
    tps = np.cumsum(truth)[last_of_group]
    precision = tps / (last_of_group + 1)
    recall = tps / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def padded_cmap(y_true: np.ndarray, y_score: np.ndarray, pad_rows: int = 5) -> float:
    """Padded class-wise mean AP: ``pad_rows`` rows of ones on truth and scores, then macro AP."""
    y_true, y_score = _check(y_true, y_score)
    k = y_true.shape[1]
    truth = np.vstack([y_true, np.ones((pad_rows, k), dtype=np.int64)])
    scores = np.vstack([y_score, np.ones((pad_rows, k), dtype=np.float64)])
    aps = [average_precision(truth[:, c], scores[:, c]) for c in range(k)]
    scored = [a for a in aps if not np.isnan(a)]
    return float(np.mean(scored)) if scored else float("nan")


def species_scores(y_true: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """``macro_roc_auc`` and ``padded_cmap`` of a classifier's logits (N, K).

    AUC is rank-based: it uses the logits (no float saturation ties); padded cmAP pads with scores
    of 1, so it needs probabilities (the sigmoid, in float64).
    """
    probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    return {"macro_roc_auc": macro_roc_auc(y_true, logits), "padded_cmap": padded_cmap(y_true, probs)}
