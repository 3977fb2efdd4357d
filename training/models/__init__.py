"""Model definitions and their torch-free companions.

- :mod:`.spec` — :class:`~training.models.spec.ModelSpec`: class names, preprocessing config, I/O
  names and architecture knobs; JSON-ready, stored with every exported model (no torch import).
- :mod:`.centernet` — numpy target encoding (boxes -> heatmaps) and decoding (head maps -> boxes,
  3x3 peak picking, class-wise NMS) for the detector; the inference runtime imports this, not torch.
- :mod:`.vision` — the CenterNet-style crop/weed detector and its loss (torch).
- :mod:`.audio` — the multi-label species classifier on log-mel spectrograms and its loss (torch).

This package ``__init__`` imports nothing, so ``training.models.centernet`` / ``.spec`` load without
torch.
"""
