"""CenterNet target encoding for the crop/weed detector, in numpy (no torch).

Head maps on the stride-``s`` output grid (``H_out x W_out`` cells), per image:

- ``heatmap`` (C, H, W): per-class object-centre heat; the target is 1 at each box's centre cell and
  an elliptical Gaussian around it (TTFNet-style: sigma = ``alpha`` * box side / 6, at least
  ``MIN_SIGMA`` cells), max-merged between boxes. The model outputs logits.
- ``box_size`` (2, H, W): log of the box width and height in output cells, read at centre cells.
- ``center_offset`` (2, H, W): sub-cell position of the centre (0..1 in x and y) at centre cells.
- ``mask`` (H, W): 1 at the cells that carry a box (where size/offset are supervised).

Decoding the model's maps back into boxes is the model contract's
(:mod:`model_contract.detections`): the workers and the server run it too.
"""

from __future__ import annotations

import numpy as np

GAUSSIAN_ALPHA = 0.54  # TTFNet's choice: the Gaussian covers the central ~half of the box
MIN_SIGMA = 0.5  # cells; keeps tiny boxes from becoming a single hard positive with hard negatives


def encode_targets(
    boxes: np.ndarray,
    classes: np.ndarray,
    num_classes: int,
    out_height: int,
    out_width: int,
    alpha: float = GAUSSIAN_ALPHA,
) -> dict[str, np.ndarray]:
    """Ground-truth boxes (M, 4) normalised xyxy + class ids (M,) -> dense float32 target maps.

    Returns ``heatmap`` (C, H, W), ``box_size`` (2, H, W), ``center_offset`` (2, H, W), ``mask`` (H, W).
    When two boxes share a centre cell the smaller one's size/offset win (larger boxes go first).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    if boxes.shape[0] != classes.shape[0]:
        raise ValueError("boxes and classes must have the same length")
    if classes.size and (classes.min() < 0 or classes.max() >= num_classes):
        raise ValueError(f"class ids must be in [0, {num_classes})")
    heat = np.zeros((num_classes, out_height, out_width), dtype=np.float32)
    size = np.zeros((2, out_height, out_width), dtype=np.float32)
    offset = np.zeros((2, out_height, out_width), dtype=np.float32)
    mask = np.zeros((out_height, out_width), dtype=np.float32)
    w = (boxes[:, 2] - boxes[:, 0]) * out_width
    h = (boxes[:, 3] - boxes[:, 1]) * out_height
    keep = (w > 0) & (h > 0)
    order = np.argsort(-(w * h)[keep], kind="stable")
    for i in np.flatnonzero(keep)[order]:
        cx = (boxes[i, 0] + boxes[i, 2]) / 2 * out_width
        cy = (boxes[i, 1] + boxes[i, 3]) / 2 * out_height
        ix = min(max(int(np.floor(cx)), 0), out_width - 1)
        iy = min(max(int(np.floor(cy)), 0), out_height - 1)
        sx, sy = max(alpha * w[i] / 6, MIN_SIGMA), max(alpha * h[i] / 6, MIN_SIGMA)
        rx, ry = int(np.ceil(3 * sx)), int(np.ceil(3 * sy))
        x0, x1 = max(ix - rx, 0), min(ix + rx + 1, out_width)
        y0, y1 = max(iy - ry, 0), min(iy + ry + 1, out_height)
        dx = (np.arange(x0, x1) - ix) ** 2 / (2 * sx * sx)
        dy = (np.arange(y0, y1) - iy) ** 2 / (2 * sy * sy)
        gauss = np.exp(-(dy[:, None] + dx[None, :])).astype(np.float32)
        region = heat[classes[i], y0:y1, x0:x1]
        np.maximum(region, gauss, out=region)
        size[:, iy, ix] = (np.log(w[i]), np.log(h[i]))
        offset[:, iy, ix] = (cx - ix, cy - iy)
        mask[iy, ix] = 1.0
    return {"heatmap": heat, "box_size": size, "center_offset": offset, "mask": mask}
