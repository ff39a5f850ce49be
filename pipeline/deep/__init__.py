"""Deep clustering with Keras 3: autoencoders, SimCLR, pretrained backbones, DEC/SCAN/IIC heads.

Importing this package does not import Keras; models are built on first use.
Extractors and clustering heads register through the registries in :mod:`pipeline.features.registry`
and :mod:`pipeline.clustering.registry`; :data:`DEEP_PRESETS` holds the ``deep-fast`` and
``deep-best`` pipeline configurations.
"""
from pipeline.deep.presets import DEEP_PRESETS
from pipeline.deep.pretrained import MissingWeightsError

__all__ = ["DEEP_PRESETS", "MissingWeightsError"]
