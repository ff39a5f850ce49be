"""A registry of named plugins whose modules are imported by name on the first lookup.

The registry is a leaf: plugin modules import it and register themselves; it names them
only as strings, so no import cycle can form between a registry and its plugins.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Sequence


class PluginRegistry:
    """``name -> object`` (plus per-name ``info``) filled by the modules in ``plugin_modules``."""

    def __init__(self, kind: str, plugin_modules: Sequence[str]) -> None:
        self.kind = kind
        self.plugin_modules = tuple(plugin_modules)
        self._items: dict[str, Any] = {}
        self._info: dict[str, dict[str, Any]] = {}
        self._loaded = False

    def register(self, name: str, obj: Any, **info: Any) -> Any:
        self._items[name] = obj
        self._info[name] = info
        return obj

    def decorator(self, name: str, **info: Any) -> Callable[[Any], Any]:
        """``@registry.decorator("name")``: register the decorated object under ``name``."""
        return lambda obj: self.register(name, obj, **info)

    def load_plugins(self) -> None:
        """Import every plugin module once."""
        if not self._loaded:
            for module in self.plugin_modules:
                importlib.import_module(module)
            self._loaded = True

    def get(self, name: str) -> Any:
        """The object registered as ``name``; ``ValueError`` names the known ones."""
        self.load_plugins()
        try:
            return self._items[name]
        except KeyError:
            raise ValueError(f"unknown {self.kind} {name!r}; known: {self.names()}") from None

    def info(self, name: str) -> dict[str, Any]:
        self.get(name)
        return self._info[name]

    def names(self) -> list[str]:
        self.load_plugins()
        return sorted(self._items)
