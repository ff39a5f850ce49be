"""How many clusters labeling mode asks for: many small, pure ones (about one GTSRB track each)."""
from __future__ import annotations

#: Labeling mode aims at clusters of about this many images (about one GTSRB track).
IMAGES_PER_CLUSTER = 40
#: At most this many clusters: beyond it naming clusters costs more than bulk accepts save.
MAX_CLUSTERS = 1000


def overcluster_k(n_images: int, n_classes: int = 43) -> int:
    """A cluster count for labeling mode: one per 40 images, at least 4 per class, at most 1,000
    (and never more than the images)."""
    k = max(4 * n_classes, min(MAX_CLUSTERS, n_images // IMAGES_PER_CLUSTER))
    return int(max(1, min(k, n_images)))


__all__ = ["IMAGES_PER_CLUSTER", "MAX_CLUSTERS", "overcluster_k"]
