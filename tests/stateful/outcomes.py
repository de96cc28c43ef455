"""What a storage call did — returned a value or raised — in a form two storages can compare."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """The value a call returned, or the type (and message, for the report) of what it raised."""

    value: Any = None
    error: type[BaseException] | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def matches(self, other: Outcome) -> bool:
        """Same value, or the same exception type (messages may name different paths)."""
        if self.error is not None or other.error is not None:
            return self.error is other.error
        return bool(self.value == other.value and type(self.value) is type(other.value))

    def __str__(self) -> str:
        if self.error is None:
            return f"returned {self.value!r}"
        return f"raised {self.error.__module__}.{self.error.__qualname__}({self.message!r})"


def outcome(call: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(value=call())
    except Exception as exc:
        return Outcome(error=type(exc), message=str(exc)[:160])


def differs(what: str, cached: Outcome, wrapped: Outcome) -> str:
    """The assertion message: both answers, side by side."""
    return f"{what}: CachedStorage {cached}, the wrapped storage {wrapped}"
