"""Name -> class registries (heads, ...), filled by explicit imports in each package's __init__."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from biorelex.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A small registry: ``@registry.register("name")`` on a class, ``registry.get("name")``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(item: T) -> T:
            if name in self._items:
                raise ConfigError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            return item

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; registered: {', '.join(sorted(self._items))}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)
