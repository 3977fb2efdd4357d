"""Frame (camera image) features for precision spraying.

One definition shared by the PyFlink feature job, training and serving. Every function takes decoded
RGB pixels (``uint8``), never Kafka records or encoded bytes. See ``FEATURES.md`` for the formulas,
units and the reasons behind each threshold.

Input of :func:`frame_features_batch`: ``images`` of shape ``(N, H, W, 3)``, dtype ``uint8``, RGB.
Output: ``dict[str, np.ndarray]``, one ``(N,)`` float64 array per name in :data:`FRAME_FEATURE_NAMES`.

Features (per frame):

- ``vegetation_fraction`` [0, 1]: fraction of pixels classified *green*: Excess-Green index
  ``ExG = 2g - r - b`` on chromatic coordinates (``r = R / (R + G + B)`` ...) greater than
  :data:`EXG_THRESHOLD` (0.1) and ``R + G + B >=`` :data:`MIN_INTENSITY_SUM` (30).
- ``exg_mean`` [-1, 2], dimensionless: mean ExG over all pixels (a pixel with R = G = B = 0 has ExG 0).
- ``brightness_mean``, ``brightness_std`` [0, 255] grey levels: mean / population standard deviation of
  luma ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601).
- ``sharpness`` [grey levels²]: population variance of the 4-neighbour Laplacian
  ``L = Y[i-1,j] + Y[i+1,j] + Y[i,j-1] + Y[i,j+1] - 4 Y[i,j]`` over interior pixels, full resolution.
- ``green_brown_ratio`` (0, 1): ``(n_green + 0.5) / (n_green + n_brown + 1)``; *brown* (soil, residue)
  = not green, ``R > G > B`` and ``R + G + B >= 30``. 0.5 when neither class is present.
- ``green_cluster_density`` [blobs per megapixel]: 8-connected blobs of at least
  :data:`MIN_BLOB_CELLS` cells in the green mask downsampled to :data:`CLUSTER_BLOCK` x
  :data:`CLUSTER_BLOCK`-pixel cells (a cell is green when more than half of its samples are), divided by
  the frame area in megapixels.
- ``canopy_cover_left``, ``canopy_cover_right`` [0, 1]: vegetation fraction of the left / right half of
  the columns (the middle column of an odd width belongs to neither).

Resolution: luma features (brightness, sharpness) use every pixel; the chromatic features (the rest)
use every :data:`DECIMATION`-th pixel in each direction (a 2x2 grid subsample: 76 800 samples of a
640x480 frame), which keeps the cost under 5 ms/frame and changes fractions by far less than their
frame-to-frame variation. Luma is held as ``1000 * Y`` (integers below 2**24, exact in float32) and the
colour planes as int16, so thresholds are exact and a constant frame has ``brightness_std == 0`` and
``sharpness == 0`` exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = [
    "CLUSTER_BLOCK",
    "DECIMATION",
    "EXG_THRESHOLD",
    "FRAME_FEATURE_NAMES",
    "MIN_BLOB_CELLS",
    "MIN_INTENSITY_SUM",
    "frame_features",
    "frame_features_batch",
]

FRAME_FEATURE_NAMES: tuple[str, ...] = (
    "vegetation_fraction",
    "exg_mean",
    "brightness_mean",
    "brightness_std",
    "sharpness",
    "green_brown_ratio",
    "green_cluster_density",
    "canopy_cover_left",
    "canopy_cover_right",
)

#: ExG above this marks a pixel as vegetation. Neutral pixels (grey, black, white) have ExG = 0 and
#: soils (R > G > B) about -0.1..0.05, while green leaves sit at 0.2..0.9; 0.1 leaves margin for soil
#: colour and white-balance drift without losing pale or shaded leaves (see FEATURES.md).
EXG_THRESHOLD: float = 0.1
#: Pixels darker than this (R + G + B, i.e. a mean channel value of 10) are neither green nor brown:
#: their chromaticity is dominated by sensor noise and JPEG quantisation.
MIN_INTENSITY_SUM: int = 30
#: Cell size (pixels) of the majority-vote downsampling before connected-component labelling.
CLUSTER_BLOCK: int = 4
#: Blobs smaller than this many cells (3 cells = 48 px, about 7x7 px) are noise, not plants.
MIN_BLOB_CELLS: int = 3

# Frames are processed in blocks of about this many pixels (at least one frame): the float32 planes
# (4 bytes per pixel each) then stay cache-resident. Measured ~1.3-1.9x faster than whole-batch arrays
# for 640x480 frames (one frame per block), while thumbnails still go many per numpy call.
_BLOCK_PIXELS = 1 << 19
# ExG > 0.1  <=>  10 * (2G - R - B) > R + G + B  (exact; R + G + B > 0 is implied).
_EXG_SCALE = round(1 / EXG_THRESHOLD)
# 1000 * Y (BT.601) = 299 R + 587 G + 114 B: integers below 2**24, exact in float32.
_LUMA_MILLI = (np.float32(299), np.float32(587), np.float32(114))
#: Chromatic features are computed on every DECIMATION-th pixel in each direction (see FEATURES.md).
DECIMATION: int = 2
_LABEL_STRUCTURE = np.ones((3, 3), dtype=bool)  # 8-connectivity


def frame_features_batch(images: np.ndarray) -> dict[str, np.ndarray]:
    """Compute all frame features for a batch of RGB frames.

    Args:
        images: ``(N, H, W, 3)`` uint8 RGB array (``N`` may be 0).

    Returns:
        ``{name: (N,) float64 array}`` for every name in :data:`FRAME_FEATURE_NAMES`, in that order.
    """
    images = _check_batch(images)
    n = images.shape[0]
    out = {name: np.zeros(n, dtype=np.float64) for name in FRAME_FEATURE_NAMES}
    step = max(1, _BLOCK_PIXELS // (images.shape[1] * images.shape[2]))
    for start in range(0, n, step):
        block = _block_features(images[start : start + step])
        for name in FRAME_FEATURE_NAMES:
            out[name][start : start + step] = block[name]
    return out


def frame_features(image: np.ndarray) -> dict[str, float]:
    """Compute all frame features for one ``(H, W, 3)`` uint8 RGB image (same values as the batch)."""
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"expected one (H, W, 3) image, got shape {image.shape}")
    batch = frame_features_batch(image[np.newaxis])
    return {name: float(batch[name][0]) for name in FRAME_FEATURE_NAMES}


def _check_batch(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 RGB pixels, got dtype {images.dtype}")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected shape (N, H, W, 3), got {images.shape}")
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f"empty frames: shape {images.shape}")
    return images


def _block_features(images: np.ndarray) -> dict[str, np.ndarray]:
    # Plain element-wise numpy on purpose: no BLAS call, so no thread pool to contend with the job.
    n, h, w, _ = images.shape
    luma = np.multiply(images[..., 0], _LUMA_MILLI[0], dtype=np.float32)  # 1000 * Y, full resolution
    term = np.multiply(images[..., 1], _LUMA_MILLI[1], dtype=np.float32)
    luma += term
    np.multiply(images[..., 2], _LUMA_MILLI[2], out=term, dtype=np.float32)
    luma += term
    del term
    features = _luma_features(luma)

    # --- chromatic features on the decimated grid (small integers, exact in int16) ---------------
    sub = images[:, ::DECIMATION, ::DECIMATION]
    hs, ws = sub.shape[1:3]
    area = hs * ws
    red, green, blue = (sub[..., c].astype(np.int16) for c in range(3))
    total = red + green
    total += blue
    exg_num = 2 * green
    exg_num -= red
    exg_num -= blue

    exg = np.divide(exg_num, np.maximum(total, 1), dtype=np.float64)  # black pixel: 0 / 1 -> ExG 0
    features["exg_mean"] = exg.reshape(n, area).sum(axis=1) / area

    lit = total >= MIN_INTENSITY_SUM
    is_green = _EXG_SCALE * exg_num > total
    is_green &= lit
    is_brown = red > green
    is_brown &= green > blue
    is_brown &= lit
    is_brown &= ~is_green

    green_cols = is_green.view(np.uint8).sum(axis=1, dtype=np.int32)  # (n, ws) green pixels per column
    n_green = green_cols.sum(axis=1, dtype=np.int64).astype(np.float64)
    n_brown = np.count_nonzero(is_brown.reshape(n, area), axis=1).astype(np.float64)
    half = ws // 2
    half_area = max(half * hs, 1)
    features["vegetation_fraction"] = n_green / area
    features["green_brown_ratio"] = (n_green + 0.5) / (n_green + n_brown + 1.0)
    features["green_cluster_density"] = _cluster_counts(is_green) / (h * w / 1e6)
    features["canopy_cover_left"] = green_cols[:, :half].sum(axis=1, dtype=np.int64) / half_area
    features["canopy_cover_right"] = green_cols[:, ws - half :].sum(axis=1, dtype=np.int64) / half_area
    return {name: features[name] for name in FRAME_FEATURE_NAMES}


def _luma_features(luma: np.ndarray) -> dict[str, np.ndarray]:
    """brightness_mean, brightness_std and sharpness from full-resolution ``(n, h, w)`` 1000*Y."""
    n, h, w = luma.shape
    area = h * w
    flat = luma.reshape(n, area)
    luma_sum = flat.sum(axis=1, dtype=np.float64)  # exact: integers, total < 2**53
    pivot = np.round(luma_sum / area)
    centred = flat - pivot.astype(np.float32)[:, np.newaxis]  # exact integers
    offset = luma_sum / area - pivot
    luma_var = np.einsum("ij,ij->i", centred, centred, dtype=np.float64) / area - offset * offset
    return {
        "brightness_mean": luma_sum / (1000.0 * area),
        "brightness_std": np.sqrt(np.maximum(luma_var, 0.0)) / 1000.0,
        "sharpness": _laplacian_variance(luma) / 1e6,
    }


def _laplacian_variance(luma: np.ndarray) -> np.ndarray:
    """Population variance of the 4-neighbour Laplacian over interior pixels of ``(n, h, w)`` luma.

    Luma holds integers below 2**24 and the Laplacian stays below 2**23 in magnitude, so it is exact in
    float32; its sum is exact in float64 and a constant image gives exactly 0.
    """
    n, h, w = luma.shape
    if h < 3 or w < 3:
        return np.zeros(n, dtype=np.float64)
    centre = luma[:, 1:-1, 1:-1]
    lap = luma[:, :-2, 1:-1] + luma[:, 2:, 1:-1]
    lap += luma[:, 1:-1, :-2]
    lap += luma[:, 1:-1, 2:]
    lap -= 4.0 * centre
    lap = lap.reshape(n, -1)
    m = lap.shape[1]
    mean = lap.sum(axis=1, dtype=np.float64) / m
    var = np.einsum("ij,ij->i", lap, lap, dtype=np.float64) / m - mean * mean
    return np.maximum(var, 0.0)


def _cluster_counts(mask: np.ndarray) -> np.ndarray:
    """Green blobs per frame: 8-connected components of at least :data:`MIN_BLOB_CELLS` cells.

    ``mask`` is the decimated green mask; a cell (``CLUSTER_BLOCK`` x ``CLUSTER_BLOCK`` original pixels)
    is green when more than half of its samples are, which removes isolated noisy pixels.
    """
    n, h, w = mask.shape
    block = CLUSTER_BLOCK // DECIMATION
    if h < block or w < block:
        block = 1
    hh, ww = (h // block) * block, (w // block) * block
    cells = mask[:, :hh, :ww].view(np.uint8)
    rows = cells[:, 0::block].copy()
    for k in range(1, block):
        rows += cells[:, k::block]
    votes = rows[:, :, 0::block].copy()
    for k in range(1, block):
        votes += rows[:, :, k::block]
    green_cells = 2 * votes.astype(np.int16) > block * block
    counts = np.zeros(n, dtype=np.float64)
    # Connected components need a per-frame pass (scipy labels one 2-D array at a time).
    for i in range(n):
        labels, n_labels = ndimage.label(green_cells[i], structure=_LABEL_STRUCTURE)
        if n_labels:
            sizes = np.bincount(labels.ravel(), minlength=n_labels + 1)[1:]
            counts[i] = np.count_nonzero(sizes >= MIN_BLOB_CELLS)
    return counts
