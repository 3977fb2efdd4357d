"""Macro ROC-AUC and padded cmAP: hand-worked cases and sklearn agreement."""

import numpy as np
import pytest

from training.metrics import average_precision, macro_roc_auc, padded_cmap, roc_auc, species_scores


def test_roc_auc_hand_worked():
    # pairs (pos, neg): (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) -> 3 / 4
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


def test_roc_auc_counts_ties_as_half():
    # pos 0.5 vs neg 0.5: 1/2; pos 0.5 vs neg 0.2: 1; pos 0.9 vs both: 2 -> 3.5 / 4
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(0.875)
    assert roc_auc([0, 1], [0.3, 0.3]) == pytest.approx(0.5)


def test_macro_roc_auc_skips_classes_without_positives_or_negatives():
    y = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1], [0, 0, 1]])
    s = np.array([[0.9, 0.5, 0.1], [0.1, 0.5, 0.2], [0.8, 0.5, 0.3], [0.7, 0.5, 0.4]])
    # class 0: pos {0.9, 0.8} vs neg {0.1, 0.7} -> 4/4; classes 1 (no pos) and 2 (no neg) are skipped
    assert macro_roc_auc(y, s) == pytest.approx(1.0)
    assert np.isnan(macro_roc_auc(y[:, 1:2], s[:, 1:2]))


def test_average_precision_hand_worked():
    # thresholds 0.9: P 1, R .5; 0.8: P .5, R .5; 0.7: P 2/3, R 1 -> .5 * 1 + .5 * 2/3
    assert average_precision([1, 0, 1], [0.9, 0.8, 0.7]) == pytest.approx(0.5 + 1 / 3)
    assert np.isnan(average_precision([0, 0], [0.1, 0.2]))


def test_padded_cmap_hand_worked():
    # padded column: five (1, score 1.0) rows, then (neg, 0.6), (pos, 0.2):
    # at 1.0: P 1, R 5/6; at 0.6: R unchanged; at 0.2: P 6/7, R 1 -> 5/6 + 1/6 * 6/7
    y = np.array([[1], [0]])
    s = np.array([[0.2], [0.6]])
    assert padded_cmap(y, s) == pytest.approx(5 / 6 + 1 / 7)
    # a class with no positive still counts (the padding gives it five) and scores 1.0 when ranked below
    y2 = np.array([[1, 0], [0, 0]])
    s2 = np.array([[0.2, 0.1], [0.6, 0.3]])
    assert padded_cmap(y2, s2) == pytest.approx(((5 / 6 + 1 / 7) + 1.0) / 2)


def test_inputs_are_validated():
    with pytest.raises(ValueError):
        macro_roc_auc(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError):
        padded_cmap(np.full((2, 2), 2), np.zeros((2, 2)))


def test_agrees_with_sklearn_on_random_cases_with_ties():
    sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed")
    rng = np.random.default_rng(3)
    for _ in range(20):
        n, k = int(rng.integers(8, 60)), int(rng.integers(2, 8))
        y = (rng.random((n, k)) < rng.uniform(0.05, 0.6, k)).astype(int)
        s = np.round(rng.random((n, k)) + 0.3 * y, 1)  # rounding makes ties
        valid = [c for c in range(k) if 0 < y[:, c].sum() < n]
        if valid:
            ref = np.mean([sklearn_metrics.roc_auc_score(y[:, c], s[:, c]) for c in valid])
            assert macro_roc_auc(y, s) == pytest.approx(ref, abs=1e-12)
        for c in range(k):
            if y[:, c].any():
                ref_ap = sklearn_metrics.average_precision_score(y[:, c], s[:, c])
                assert average_precision(y[:, c], s[:, c]) == pytest.approx(ref_ap, abs=1e-12)
        yp = np.vstack([y, np.ones((5, k), int)])
        sp = np.vstack([s, np.ones((5, k))])
        ref_cmap = sklearn_metrics.average_precision_score(yp, sp, average="macro")
        assert padded_cmap(y, s) == pytest.approx(ref_cmap, abs=1e-12)


def test_species_scores_rank_the_logits_and_pad_the_probabilities():
    rng = np.random.default_rng(3)
    truth = (rng.random((20, 4)) < 0.4).astype(np.float32)
    logits = rng.normal(0, 3, (20, 4)).astype(np.float32)
    probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    assert species_scores(truth, logits) == {
        "macro_roc_auc": macro_roc_auc(truth, logits),
        "padded_cmap": padded_cmap(truth, probs),
    }
