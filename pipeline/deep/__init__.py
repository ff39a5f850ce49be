"""Deep clustering with Keras 3: autoencoders, SimCLR, pretrained backbones, DEC/SCAN/IIC heads.

Importing this package does not import Keras; models are built on first use.
Extractors register through :mod:`pipeline.deep.extractors`, clustering heads through
:mod:`pipeline.deep.heads`; :data:`DEEP_PRESETS` holds the ``deep-fast`` and
``deep-best`` pipeline configurations.
"""
from .presets import DEEP_PRESETS
from .pretrained import MissingWeightsError

__all__ = ["DEEP_PRESETS", "MissingWeightsError"]
