"""``deep-fast`` and ``deep-best`` pipeline presets, as PipelineConfig dicts.

Both learn SimCLR embeddings on the user's own images and cluster them with SCAN;
``deep-fast`` uses a narrow CNN and few epochs so it finishes on a CPU, ``deep-best``
a wider CNN trained longer (meant for a GPU). The lead merges them into ``PRESETS``.
"""
from __future__ import annotations

DEEP_PRESETS: dict[str, dict] = {
    "deep-fast": {
        "name": "deep-fast",
        "image_size": 32,
        "crop_roi": True,
        "features": [{"name": "simclr", "params": {"epochs": 15, "width": 16, "batch_size": 256}}],
        "pca": None,
        "whiten": False,
        "l2_normalize": True,
        "method": "scan",
        "k": 43,
        "method_params": {"epochs": 30, "self_label_epochs": 5},
        "seed": 0,
        "description": "SimCLR (narrow CNN, 15 epochs) + SCAN: CPU-friendly deep clustering.",
    },
    "deep-best": {
        "name": "deep-best",
        "image_size": 32,
        "crop_roi": True,
        "features": [{"name": "simclr", "params": {"epochs": 100, "width": 32, "batch_size": 256}}],
        "pca": None,
        "whiten": False,
        "l2_normalize": True,
        "method": "scan",
        "k": 43,
        "method_params": {"epochs": 60, "self_label_epochs": 10},
        "seed": 0,
        "description": "SimCLR (100 epochs) + SCAN with self-labeling: best deep clustering; use a GPU.",
    },
}
