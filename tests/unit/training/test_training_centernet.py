"""CenterNet targets: encode -> decode round trip, peak picking, NMS (all numpy)."""

import numpy as np
import pytest

from model_contract.detections import box_iou, decode_detections, nms
from training.metrics import ImageDetections, ImageGroundTruth
from training.metrics.detection import mean_average_precision
from training.models.centernet import encode_targets

OUT_H, OUT_W = 48, 64


def dense_peak_mask(heat: np.ndarray) -> np.ndarray:
    """The definition the decoder applies at candidate cells only: True where a cell equals the max
    of its 3x3 neighbourhood (a 3x3 max-pool over the whole map); heat (..., H, W)."""
    pad = [(0, 0)] * (heat.ndim - 2) + [(1, 1), (1, 1)]
    padded = np.pad(heat, pad, constant_values=-np.inf)
    h, w = heat.shape[-2:]
    pooled = heat.copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(pooled, padded[..., dy : dy + h, dx : dx + w], out=pooled)
    return heat == pooled


def _spread_boxes(rng, n=12):
    """Boxes whose centres fall in distinct cells of a coarse grid (no shared centre cells)."""
    cells = rng.choice(6 * 8, n, replace=False)
    cy, cx = (cells // 8 + rng.uniform(0.3, 0.7, n)) / 6, (cells % 8 + rng.uniform(0.3, 0.7, n)) / 8
    w, h = rng.uniform(0.04, 0.2, n), rng.uniform(0.05, 0.25, n)
    boxes = np.clip(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1), 0, 1)
    return boxes, rng.integers(0, 2, n)


def test_encode_then_decode_recovers_every_box():
    rng = np.random.default_rng(0)
    for _ in range(5):
        boxes, classes = _spread_boxes(rng)
        t = encode_targets(boxes, classes, 2, OUT_H, OUT_W)
        assert t["heatmap"].shape == (2, OUT_H, OUT_W) and t["mask"].sum() == len(boxes)
        assert (t["heatmap"] == 1.0).sum() == len(boxes)
        det = decode_detections(
            t["heatmap"][None],
            t["box_size"][None],
            t["center_offset"][None],
            from_logits=False,
            score_threshold=0.5,
        )[0]
        assert len(det) == len(boxes)
        ious = box_iou(boxes, det.boxes)
        best = ious.argmax(axis=1)
        assert ious.max(axis=1).min() > 0.9
        np.testing.assert_array_equal(det.classes[best], classes)
        np.testing.assert_allclose(det.scores, 1.0)


def test_round_trip_scores_perfect_map():
    rng = np.random.default_rng(1)
    preds, gts = [], []
    for _ in range(4):
        boxes, classes = _spread_boxes(rng)
        t = encode_targets(boxes, classes, 2, OUT_H, OUT_W)
        d = decode_detections(
            t["heatmap"][None], t["box_size"][None], t["center_offset"][None], from_logits=False
        )[0]
        preds.append(ImageDetections(d.boxes, d.scores, d.classes))
        gts.append(ImageGroundTruth(boxes, classes))
    assert mean_average_precision(preds, gts, 2).map_50 == pytest.approx(1.0)


def test_gaussian_is_max_merged_and_smaller_box_wins_a_shared_centre_cell():
    big = [0.40, 0.40, 0.60, 0.60]
    small = [0.48, 0.48, 0.52, 0.52]  # same centre cell as ``big``
    t = encode_targets(np.array([small, big]), np.array([0, 0]), 1, OUT_H, OUT_W)
    assert t["mask"].sum() == 1
    iy, ix = np.argwhere(t["mask"] == 1)[0]
    np.testing.assert_allclose(np.exp(t["box_size"][:, iy, ix]), [0.04 * OUT_W, 0.04 * OUT_H], rtol=1e-5)
    assert t["heatmap"].max() == 1.0 and t["heatmap"].min() >= 0.0


def test_decoding_logits_matches_decoding_probabilities():
    rng = np.random.default_rng(2)
    logits = rng.normal(-3, 2, (2, 2, 12, 16)).astype(np.float32)
    size = rng.normal(1, 0.3, (2, 2, 12, 16)).astype(np.float32)
    offset = rng.random((2, 2, 12, 16)).astype(np.float32)
    a = decode_detections(logits, size, offset)
    b = decode_detections(1 / (1 + np.exp(-logits)), size, offset, from_logits=False)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x.boxes, y.boxes, atol=1e-6)
        np.testing.assert_allclose(x.scores, y.scores, atol=1e-6)
        assert len(x) <= 100 and np.all(np.diff(x.scores) <= 0)


def test_decoding_keeps_the_top_k_peaks_above_the_threshold_of_each_image():
    """The batched decoder against the dense definition: 3x3 max-pool peaks, threshold, top-k."""
    rng = np.random.default_rng(5)
    probs = rng.random((5, 2, 12, 16)).astype(np.float32) ** 3  # continuous: no tied scores
    probs[3] = 0.01  # an image with nothing above the threshold
    zeros = np.zeros((5, 2, 12, 16), np.float32)
    for top_k, threshold in [(100, 0.3), (4, 0.3), (100, 0.9)]:
        decoded = decode_detections(
            probs, zeros, zeros, from_logits=False, top_k=top_k, score_threshold=threshold, nms_iou=None
        )
        for image, det in zip(probs, decoded, strict=True):
            expected = np.sort(image[dense_peak_mask(image) & (image > threshold)])[::-1][:top_k]
            np.testing.assert_array_equal(det.scores, expected)
            assert det.boxes.shape == (len(expected), 4) and det.classes.shape == (len(expected),)
    assert len(decoded[3]) == 0


def test_decoding_keeps_only_local_maxima():
    heat = np.zeros((1, 1, 5, 5), np.float32)
    heat[0, 0, 1, 1], heat[0, 0, 1, 2], heat[0, 0, 4, 4] = 0.9, 0.5, 0.3
    mask = dense_peak_mask(heat)
    assert mask[0, 0, 1, 1] and mask[0, 0, 4, 4] and not mask[0, 0, 1, 2]
    zeros = np.zeros((1, 2, 5, 5), np.float32)
    det = decode_detections(heat, zeros, zeros, from_logits=False, score_threshold=0.2, nms_iou=None)[0]
    np.testing.assert_array_equal(det.scores, np.array([0.9, 0.3], np.float32))  # 0.5 sits beside 0.9


def test_nms_suppresses_overlaps_within_a_class_only():
    boxes = np.array([[0, 0, 1, 1], [0, 0, 0.95, 1], [0, 0, 0.95, 1], [2, 2, 3, 3]], float) / 3
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [0, 3])
    heat = np.full((1, 2, 8, 8), -10.0, np.float32)
    heat[0, 0, 4, 4] = heat[0, 1, 4, 4] = 5.0  # same place, two classes
    det = decode_detections(heat, np.zeros((1, 2, 8, 8), np.float32), np.full((1, 2, 8, 8), 0.5, np.float32))[
        0
    ]
    assert sorted(det.classes.tolist()) == [0, 1]
