"""Package attributes loaded on first use. The computing parts of some packages import
torch, which takes seconds; their options and small helpers, which every job reads, should
cost nothing, so a package names its heavy attributes here instead of importing them."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module __getattr__ for `package` that imports `where[name]` (a submodule) when
    `name` is first read."""

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(import_module(f".{where[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


__all__ = ["lazy_attributes"]
