"""Pipeline configuration: one small serialisable description shared by GUI and CLI."""
from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Optional, Union


@dataclass
class PipelineConfig:
    """Everything needed to go from decoded images to clusters.

    ``features``: list of ``{"name": extractor, "params": {...}, "weight": 1.0}``; several
    blocks are each scaled to unit mean row norm, weighted and concatenated.
    ``pca``: variance fraction in (0, 1], a component count, or ``None`` (or 0) for none.
    ``k``: fixed number of clusters; ``k_range``: ``[lo, hi]`` to choose k by ``k_criterion``.
    """

    name: str = "custom"
    image_size: int = 32
    crop_roi: bool = True
    features: list[dict[str, Any]] = field(default_factory=lambda: [{"name": "hog", "params": {}}])
    pca: Optional[Union[float, int]] = 100
    whiten: bool = False
    l2_normalize: bool = True
    method: str = "kmeans"
    k: Optional[int] = 43
    k_range: Optional[list[int]] = None
    k_criterion: str = "silhouette"
    method_params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PipelineConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown pipeline config keys: {sorted(unknown)}")
        data = dict(data)
        if data.get("k_range") and "k" not in data:
            data["k"] = None  # a k range means "choose k"
        if data.get("pca") in (0, False):
            data["pca"] = None  # TOML has no null: 0 / false mean "no PCA"
        cfg = cls(**data)
        cfg.validate()
        return cfg

    def with_k(self, k: Optional[int] = None, k_range: Optional[tuple[int, int]] = None) -> "PipelineConfig":
        """Copy with a fixed ``k`` or a ``k_range`` (which clears ``k``)."""
        if k_range is not None:
            return replace(self, k=None, k_range=[int(k_range[0]), int(k_range[1])])
        if k is not None:
            return replace(self, k=int(k), k_range=None)
        return replace(self)

    def validate(self) -> None:
        if self.image_size < 8:
            raise ValueError("image_size must be at least 8 pixels")
        if not self.features:
            raise ValueError("a pipeline needs at least one feature extractor")
        for spec in self.features:
            if "name" not in spec:
                raise ValueError(f"feature spec without a name: {spec}")
        if self.k_range is not None and (len(self.k_range) != 2 or self.k_range[0] > self.k_range[1]):
            raise ValueError(f"k_range must be [lo, hi] with lo <= hi, got {self.k_range}")

    def save(self, path: Union[str, Path]) -> None:
        """Write as JSON (any suffix but ``.toml``, which is read-only here)."""
        path = Path(path)
        if path.suffix == ".toml":
            path.write_text(_to_toml(self.to_dict()), encoding="utf-8")
        else:
            path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Union[str, Path]) -> "PipelineConfig":
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return cls.from_dict(data)


def _to_toml(data: dict[str, Any]) -> str:
    """Minimal TOML writer for this flat config (tables for feature specs)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(f"cannot write {type(v).__name__} to TOML")

    data = {**data, "pca": 0 if data.get("pca") is None else data["pca"]}
    return "".join(f"{k} = {value(v)}\n" for k, v in data.items() if v is not None)


HOG_MAX = {"name": "hog", "params": {"cell": 4, "block": 2, "bins": 9, "color": "max"}}
HOG_RGB = {"name": "hog", "params": {"cell": 4, "block": 2, "bins": 9, "color": "channels"}}

PRESETS: dict[str, PipelineConfig] = {
    "pixels-kmeans": PipelineConfig(
        name="pixels-kmeans",
        features=[{"name": "pixels", "params": {}}],
        pca=None,
        l2_normalize=False,
        method="kmeans",
        description="Seed recipe: K-means on raw pixels (the earlier study's 18% baseline).",
    ),
    "pca-ward": PipelineConfig(
        name="pca-ward",
        features=[{"name": "pixels", "params": {}}],
        pca=0.95,
        l2_normalize=False,
        method="agglomerative",
        method_params={"linkage": "ward", "n_neighbors": None},
        description="Seed recipe (clustimage-like): PCA 95% variance + ward agglomerative.",
    ),
    "hog-pca-hierarchical": PipelineConfig(
        name="hog-pca-hierarchical",
        features=[HOG_MAX],
        pca=0.95,
        method="agglomerative",
        method_params={"linkage": "ward", "n_neighbors": None},
        description="Seed recipe: HOG + PCA + ward agglomerative (no neighbourhood graph).",
    ),
    "hog-kmeans": PipelineConfig(
        name="hog-kmeans",
        features=[HOG_MAX],
        pca=100,
        method="kmeans",
        description="HOG + PCA 100 + L2 + K-means.",
    ),
    "best": PipelineConfig(
        name="best",
        features=[HOG_RGB],
        pca=100,
        whiten=True,
        method="agglomerative",
        method_params={"linkage": "ward", "n_neighbors": 10},
        description="Default: per-channel HOG + whitened PCA 100 + L2, ward linkage on a 10-NN graph.",
    ),
}
def _deep_presets() -> dict[str, PipelineConfig]:
    from pipeline.deep import DEEP_PRESETS

    return {name: PipelineConfig.from_dict(data) for name, data in DEEP_PRESETS.items()}


PRESETS.update(_deep_presets())
DEFAULT_PRESET = "best"


def get_preset(name: str) -> PipelineConfig:
    """A copy of preset ``name`` (unknown names list the known ones)."""
    try:
        return replace(PRESETS[name])
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}") from None
