"""COCO-style mAP: hand-worked cases, and agreement with pycocotools (the COCO reference)."""

import numpy as np
import pytest

from training.metrics import ImageDetections, ImageGroundTruth, average_precision_101, mean_average_precision


def _gt(boxes, classes):
    return ImageGroundTruth(np.array(boxes, dtype=float).reshape(-1, 4), np.array(classes, dtype=int))


def _dt(boxes, scores, classes):
    return ImageDetections(
        np.array(boxes, dtype=float).reshape(-1, 4),
        np.array(scores, dtype=float),
        np.array(classes, dtype=int),
    )


A = [0.1, 0.1, 0.3, 0.3]
B = [0.5, 0.5, 0.8, 0.9]
FAR = [0.0, 0.9, 0.05, 1.0]


def test_perfect_predictions_score_one():
    gts = [_gt([A, B], [0, 1]), _gt([B], [0])]
    dts = [_dt([A, B], [0.9, 0.8], [0, 1]), _dt([B], [0.7], [0])]
    m = mean_average_precision(dts, gts, num_classes=2)
    assert m.map_50 == pytest.approx(1.0) and m.map_50_95 == pytest.approx(1.0)
    assert m.ap_50 == pytest.approx((1.0, 1.0))


def test_false_positive_ranked_above_the_only_true_positive_gives_half():
    # sorted: FP (0.9), TP (0.8): recall [0, 1], precision [0, 0.5] -> envelope 0.5 at every recall point
    m = mean_average_precision([_dt([FAR, A], [0.9, 0.8], [0, 0])], [_gt([A], [0])], num_classes=1)
    assert m.map_50 == pytest.approx(0.5) and m.map_50_95 == pytest.approx(0.5)


def test_tp_fp_tp_with_two_ground_truths():
    # recall [.5, .5, 1], precision [1, .5, 2/3] -> envelope [1, 2/3, 2/3];
    # recall points 0.00..0.50 (51 of them) read 1, 0.51..1.00 (50) read 2/3
    dts = [_dt([A, FAR, B], [0.9, 0.8, 0.7], [0, 0, 0])]
    m = mean_average_precision(dts, [_gt([A, B], [0, 0])], num_classes=1)
    assert m.map_50 == pytest.approx((51 * 1.0 + 50 * 2 / 3) / 101)


def test_iou_dependent_match_counts_only_thresholds_below_the_iou():
    # IoU 0.72: a TP at 0.50, 0.55, 0.60, 0.65, 0.70 and a miss at 0.75..0.95 -> 5 / 10
    m = mean_average_precision([_dt([[0, 0, 0.72, 1]], [0.9], [0])], [_gt([[0, 0, 1, 1]], [0])], 1)
    assert m.map_50 == pytest.approx(1.0)
    assert m.map_50_95 == pytest.approx(0.5)
    np.testing.assert_array_equal(m.ap[0], [1.0] * 5 + [0.0] * 5)


def test_empty_wrong_class_and_duplicate_predictions():
    gts = [_gt([A], [0])]
    assert mean_average_precision([_dt([], [], [])], gts, 1).map_50 == 0.0
    wrong = mean_average_precision([_dt([A], [0.9], [1])], gts, 2)
    assert wrong.ap_50[0] == 0.0 and np.isnan(wrong.ap_50[1]) and wrong.map_50 == 0.0  # class 1 has no GT
    # a duplicate ranked above the match is a FP once the GT is taken: TP (0.9), FP (0.8) -> AP 1
    dup = mean_average_precision([_dt([A, A], [0.9, 0.8], [0, 0])], gts, 1)
    assert dup.map_50 == pytest.approx(1.0)
    # ...but a duplicate ranked *below* a FP does not help: FP, TP -> 0.5
    assert mean_average_precision([_dt([FAR, A, A], [0.9, 0.8, 0.7], [0, 0, 0])], gts, 1).map_50 == (
        pytest.approx(0.5)
    )


def test_greedy_matching_prefers_the_best_iou_ground_truth():
    near_a = [0.1, 0.1, 0.3, 0.31]  # IoU ~0.95 with A, ~0.6 with A2
    a2 = [0.1, 0.14, 0.3, 0.34]
    dts = [_dt([near_a, a2], [0.9, 0.8], [0, 0])]
    m = mean_average_precision(dts, [_gt([A, a2], [0, 0])], 1)
    assert m.map_50_95 == pytest.approx(1.0, abs=0.02)


def test_average_precision_101_edge_cases():
    assert average_precision_101(np.array([]), 3) == 0.0
    assert np.isnan(average_precision_101(np.array([1.0]), 0))
    assert average_precision_101(np.array([1, 1, 0]), 4) == pytest.approx(51 / 101)  # recall stops at 0.5


def test_no_ground_truth_anywhere_is_nan():
    m = mean_average_precision([_dt([A], [0.9], [0])], [_gt([], [])], 1)
    assert np.isnan(m.map_50) and np.isnan(m.map_50_95)


def _random_case(rng, n_images=6, n_classes=2):
    dts, gts = [], []
    for _ in range(n_images):
        m = int(rng.integers(0, 6))
        xy = rng.uniform(0, 0.8, (m, 2))
        wh = rng.uniform(0.05, 0.2, (m, 2))
        g = np.hstack([xy, xy + wh])
        gc = rng.integers(0, n_classes, m)
        keep = rng.random(m) < 0.8
        jitter = rng.normal(0, 0.02, (m, 4))
        d = np.vstack(
            [g[keep] + jitter[keep], np.hstack([xy[:2], xy[:2] + 0.1]) if m >= 2 else np.zeros((0, 4))]
        )
        dc = np.concatenate([gc[keep], rng.integers(0, n_classes, min(m, 2) if m >= 2 else 0)])
        ds = rng.random(d.shape[0])
        dts.append(_dt(d, ds, dc))
        gts.append(_gt(g, gc))
    return dts, gts


def _coco_reference(dts, gts, scale: float = 1000.0) -> tuple[float, float]:
    """(mAP@0.5, mAP@0.5:0.95) from pycocotools' COCOeval, the reference implementation."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    anns, dets = [], []
    for i, (d, g) in enumerate(zip(dts, gts, strict=True)):
        for b, c in zip(np.asarray(g.boxes).reshape(-1, 4) * scale, np.asarray(g.classes), strict=True):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": int(c) + 1,
                    "bbox": [b[0], b[1], w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
        for b, sc, c in zip(np.asarray(d.boxes).reshape(-1, 4) * scale, d.scores, d.classes, strict=True):
            dets.append(
                {
                    "image_id": i + 1,
                    "category_id": int(c) + 1,
                    "score": float(sc),
                    "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                }
            )
    coco = COCO()
    coco.dataset = {
        "images": [{"id": i + 1} for i in range(len(gts))],
        "annotations": anns,
        "categories": [{"id": 1}, {"id": 2}],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
        evaluation = COCOeval(coco, coco.loadRes(dets), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[1]), float(evaluation.stats[0])


def test_agrees_with_pycocotools_cocoeval():
    rng = np.random.default_rng(7)
    for _ in range(5):
        dts, gts = _random_case(rng)
        ref_50, ref_50_95 = _coco_reference(dts, gts)
        ours = mean_average_precision(dts, gts, 2)
        assert ours.map_50 == pytest.approx(ref_50, abs=1e-6)
        assert ours.map_50_95 == pytest.approx(ref_50_95, abs=1e-6)
