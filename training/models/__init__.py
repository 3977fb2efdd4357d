"""The two models (torch) and the target encoding they train against.

- :mod:`.blocks` — what both networks are built from: the conv-BN-ReLU block, the arch knobs check.
- :mod:`.vision` — the CenterNet-style crop/weed detector, its spec and its loss.
- :mod:`.audio` — the multi-label species classifier on log-mel spectrograms, its spec and its loss.
- :mod:`.centernet` — numpy target encoding (boxes -> heatmaps) for the detector (no torch).

What a model *is* outside training (its spec, preprocessing, decoding of the detector's maps) is the
torch-free model contract, :mod:`model_contract`. This package ``__init__`` imports nothing, so
``training.models.centernet`` loads without torch.
"""
