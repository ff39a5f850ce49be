"""Pipeline configuration: one small serialisable description shared by GUI and CLI."""
from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Optional, Union

from pipeline.core.atomic import atomic_write_text


@dataclass
class PipelineConfig:
    """Everything needed to go from decoded images to clusters.

    ``features``: list of ``{"name": extractor, "params": {...}, "weight": 1.0}``; several
    blocks are each scaled to unit mean row norm, weighted and concatenated.
    ``pca``: variance fraction in (0, 1], a component count, or ``None`` (or 0) for none.
    ``k``: fixed number of clusters; ``k_range``: ``[lo, hi]`` to choose k by ``k_criterion``.
    ``labeling_mode``: many small, pure clusters to name and accept in bulk: ``k`` is then the
    number of classes and the run uses :func:`pipeline.clustering.overcluster.overcluster_k` clusters
    for the images it loads (the run's own config records that k).
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
    labeling_mode: bool = False
    method_params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PipelineConfig":
        if not isinstance(data, dict):
            raise ValueError("a pipeline config must be a set of named settings (a JSON object or TOML table), "
                             f"not {_kind(data)}")
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
        """Copy with a fixed ``k`` or a ``k_range`` (which clears ``k`` and labeling mode)."""
        if k_range is not None:
            return replace(self, k=None, k_range=[int(k_range[0]), int(k_range[1])], labeling_mode=False)
        if k is not None:
            return replace(self, k=int(k), k_range=None)
        return replace(self)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first setting that is wrong and what is allowed."""
        _check_config(self)

    def save(self, path: Union[str, Path]) -> None:
        """Write as JSON (any suffix but ``.toml``, which is read-only here)."""
        path = Path(path)
        text = _to_toml(self.to_dict()) if path.suffix == ".toml" else json.dumps(self.to_dict(), indent=2)
        atomic_write_text(path, text)

    @classmethod
    def load(cls, path: Union[str, Path]) -> "PipelineConfig":
        path = Path(path)
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text) if kind == "TOML" else json.loads(text)
        except OSError as exc:
            raise ValueError(f"cannot read config {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ValueError(f"cannot read config {path}: not a UTF-8 text file") from None
        except ValueError as exc:  # json.JSONDecodeError, tomllib.TOMLDecodeError
            raise ValueError(f"config {path} is not valid {kind}: {exc}") from None
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"config {path}: {exc}") from None


def _kind(value: Any) -> str:
    """What a JSON/TOML value is, in words, for messages."""
    if isinstance(value, bool):
        return f"true/false ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "null" if value is None else type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


K_CRITERIA = ("silhouette", "davies_bouldin", "calinski_harabasz")


def _check_config(cfg: "PipelineConfig") -> None:
    def bad(key: str, allowed: str) -> ValueError:
        return ValueError(f"{key} must be {allowed}, got {_kind(getattr(cfg, key))}")

    for key in ("name", "method", "description"):
        if not isinstance(getattr(cfg, key), str):
            raise bad(key, "text")
    if not cfg.method:
        raise ValueError("method must name a clustering method (see cluster-review presets -v)")
    if not _is_int(cfg.image_size) or not 8 <= cfg.image_size <= 1024:
        raise bad("image_size", "a whole number of pixels from 8 to 1024")
    for key in ("crop_roi", "whiten", "l2_normalize"):
        if not isinstance(getattr(cfg, key), bool):
            raise bad(key, "true or false")
    if not isinstance(cfg.features, list) or not cfg.features:
        raise ValueError("a pipeline needs at least one feature extractor (features: a list of "
                         '{"name": ..., "params": {...}})')
    for spec in cfg.features:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            raise ValueError(f"feature spec without a name: {spec} (each needs \"name\": an extractor name)")
        if not isinstance(spec.get("params", {}), dict):
            raise ValueError(f"feature {spec['name']!r}: params must be a table of settings, got {_kind(spec['params'])}")
        if not _is_number(spec.get("weight", 1.0)) or spec.get("weight", 1.0) <= 0:
            raise ValueError(f"feature {spec['name']!r}: weight must be a number above 0, got {_kind(spec['weight'])}")
    pca = cfg.pca
    if pca is not None and not ((_is_int(pca) and pca >= 1) or (isinstance(pca, float) and 0 < pca <= 1)):
        raise bad("pca", "a variance fraction in (0, 1], a component count of 1 or more, or none (0)")
    if cfg.k is not None and (not _is_int(cfg.k) or cfg.k < 2):
        raise bad("k", "a whole number of clusters, 2 or more (or none with a k_range)")
    if cfg.k_range is not None:
        kr = cfg.k_range
        if not isinstance(kr, (list, tuple)) or len(kr) != 2 or not all(_is_int(v) for v in kr) or not 2 <= kr[0] <= kr[1]:
            raise ValueError(f"k_range must be [lo, hi] with 2 <= lo <= hi, got {kr}")
    if not isinstance(cfg.labeling_mode, bool):
        raise bad("labeling_mode", "true or false")
    if cfg.labeling_mode and (cfg.k is None or cfg.k_range):
        raise ValueError("labeling_mode needs k (the number of classes) and no k_range")
    if cfg.k_criterion not in K_CRITERIA:
        raise ValueError(f"k_criterion must be one of {', '.join(K_CRITERIA)}, got {_kind(cfg.k_criterion)}")
    if not isinstance(cfg.method_params, dict):
        raise bad("method_params", "a table of settings")
    if not _is_int(cfg.seed):
        raise bad("seed", "a whole number")


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
        description="Per-channel HOG + whitened PCA 100 + L2, ward linkage on a 10-NN graph; the mislabel finder scores on it by default.",
    ),
}
#: HOG pooled over 5 centre crops (tolerates the margin and shifts of whole frames).
HOG_MULTICROP = {"name": "hog_multicrop", "params": {"pool": "mean", "crops": [1.0, 0.9, 0.8, 0.7, 0.6]}}
PRESETS["hog-multicrop-ward"] = PipelineConfig(
    name="hog-multicrop-ward",
    features=[HOG_MULTICROP],
    pca=100,
    method="agglomerative",
    method_params={"linkage": "ward", "n_neighbors": 10},
    description="For unseen sets and whole frames: HOG mean-pooled over 5 centre crops + PCA 100 + L2, ward "
                "on a 10-NN graph (ROI crops where the set gives them; README, unseen images).",
)
PRESETS["guarded"] = replace(
    PRESETS["hog-multicrop-ward"],
    name="guarded",
    features=[{"name": "guarded", "params": {"candidates": [
        HOG_MULTICROP, {"name": "color_hist", "params": {"grid": 2}}, {"name": "pixels", "params": {"size": 16}}]}}],
    description="hog-multicrop-ward with a domain guard: on a 2,000-image sample it keeps the feature set "
                "(multi-crop HOG, colour histograms, small pixels) that clusters best, and says which.",
)

PRESETS["prior-multicrop-ward"] = replace(
    PRESETS["hog-multicrop-ward"],
    name="prior-multicrop-ward",
    features=[{"name": "pictogram_prior", "params": {"base": HOG_MULTICROP, "icons_from": None}}],
    pca=None,
    description="hog-multicrop-ward with the taxonomy's pictograms as a prior (icons_from: a folder with Meta/, "
                "a taxonomy CSV with icons, or 'drawn'): ward merges along icon-classifier scores; without icons "
                "it is hog-multicrop-ward. Whole GTSRB frames, 3,921 images: ACC 0.49 -> 0.62; rendering "
                "60 x 43 icons added 151 s on a loaded 2-core CPU (README).",
)


def _deep_presets() -> dict[str, PipelineConfig]:
    from pipeline.deep import DEEP_PRESETS

    return {name: PipelineConfig.from_dict(data) for name, data in DEEP_PRESETS.items()}


PRESETS.update(_deep_presets())
#: What a new folder, the CLI and the window start from. ``guarded`` (multi-crop HOG with the domain
#: guard, 10-NN ward) scored above ``best`` on every set measured: whole GTSRB frames 0.596 against
#: 0.537 (full split) and 0.491 against 0.434 (track-disjoint), ROI crops 0.710 against 0.672, digits
#: 0.948 against 0.806, and on photo tiles 0.450 where ``best`` fell below pixels + K-means (0.277 <
#: 0.315): README "Unseen images". Above the streaming threshold the guard decides on its sample first
#: (``pipeline.streaming.resolve_guard``) and the chunks run the feature set it picks.
DEFAULT_PRESET = "guarded"


def get_preset(name: str) -> PipelineConfig:
    """A deep copy of preset ``name`` (editing its feature specs leaves the preset alone; unknown
    names list the known ones)."""
    try:
        return copy.deepcopy(PRESETS[name])
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}") from None
