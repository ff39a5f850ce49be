"""``deep-fast`` and ``deep-best`` pipeline presets, as PipelineConfig dicts.

Both put a trained SCAN clustering head (neighbour consistency + self-labeling, see
:mod:`pipeline.deep.scan`) on HOG + PCA 100 features. On the whole GTSRB training split
(k = 43, CPU, ``bench/deep.py``): HOG + K-means ACC 0.51 / NMI 0.69, ``deep-fast``
0.68 / 0.80, ``deep-best`` (longer training) 0.69 / 0.81. Representations trained here
from scratch on a shared 2-core CPU did worse (SimCLR 15 epochs + SCAN: ACC 0.25 on a
3,000-image subset), so they are not in the presets; see ``bench/results/deep.md``.
The lead merges them into ``PRESETS``.
"""
from __future__ import annotations

#: Same HOG settings as the ``hog-kmeans`` preset.
_HOG = {"name": "hog", "params": {"cell": 4, "block": 2, "bins": 9, "color": "max"}}


def _preset(name: str, method_params: dict, description: str) -> dict:
    return {
        "name": name,
        "image_size": 32,
        "crop_roi": True,
        "features": [dict(_HOG, params=dict(_HOG["params"]))],
        "pca": 100,
        "whiten": False,
        "l2_normalize": True,
        "method": "scan",
        "k": 43,
        "method_params": method_params,
        "seed": 0,
        "description": description,
    }


#: Multi-crop HOG of the ``hog-multicrop-ward`` preset (whole frames).
_HOG_MULTICROP = {"name": "hog_multicrop", "params": {"pool": "mean", "crops": [1.0, 0.9, 0.8, 0.7, 0.6]}}

DEEP_PRESETS: dict[str, dict] = {
    "deep-fast": _preset("deep-fast", {"epochs": 30, "self_label_epochs": 5},
                         "HOG + PCA 100 + SCAN head (30 epochs, 5 self-labeling): deep clustering in a minute on a CPU."),
    "deep-best": _preset("deep-best", {"epochs": 60, "self_label_epochs": 10},
                         "HOG + PCA 100 + SCAN head trained longer (60 epochs, 10 self-labeling)."),
    # On 3,921 whole GTSRB frames (track-disjoint): ACC 0.68 / NMI 0.76 (hog-multicrop-ward 0.49 / 0.71);
    # with the ROI crops 0.73 / 0.82 (hog-multicrop-ward 0.71 / 0.82); on scikit-learn's digits 0.76
    # (hog-multicrop-ward 0.95). See bench/results/gtsrb_*track_disjoint*.md.
    "deep-multicrop": {**_preset("deep-multicrop", {"epochs": 30, "self_label_epochs": 5},
                                 "Whole frames of signs: multi-crop HOG + PCA 100 + SCAN head (30 epochs, 5 "
                                 "self-labeling); a minute or two on a CPU for 4,000 images."),
                       "features": [dict(_HOG_MULTICROP, params=dict(_HOG_MULTICROP["params"]))]},
    # deep-multicrop whose SCAN heads start from the icon classifier of pipeline/features/pictogram_prior.py:
    # for the 43-class GTSRB taxonomy (icons_from: a folder with Meta/); without icons it is deep-multicrop.
    # Whole frames, track-disjoint: ACC 0.676 / NMI 0.755 -> 0.708 / 0.770
    # (bench/results/gtsrb_whole_track_disjoint_deep_prior.md); full split 0.631 / 0.818 -> 0.731 / 0.845
    # (bench/results/gtsrb_whole_frames_deep_prior.md); with max_steps 600 0.804 / 0.865 in 112 s
    # (bench/results/gtsrb_whole_frames_speed_stop25.md).
    "deep-prior-multicrop": {**_preset("deep-prior-multicrop",
                                       {"epochs": 30, "self_label_epochs": 5, "prior_columns": 43,
                                        "max_steps": 600},
                                       "Whole frames of the 43 GTSRB classes with their icons (icons_from: a folder "
                                       "with Meta/): deep-multicrop whose SCAN heads are first trained on the "
                                       "icon classifier's most confident half. 3,921 frames: ACC 0.68 -> 0.71, "
                                       "174 s against 144 s (the icon renderings; README)."),
                             "pca": None,
                             "features": [{"name": "pictogram_prior", "params": {
                                 "base": dict(_HOG_MULTICROP, params=dict(_HOG_MULTICROP["params"])),
                                 "icons_from": None, "center": False, "classes": 43}}]},
}
