"""The table of API methods: each area module registers its handlers with ``@method``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from musark.serve.context import Handler


@dataclass(frozen=True)
class Method:
    """One Subsonic method: its handler and whether it needs an authenticated user."""

    name: str
    handler: Handler
    auth: bool = True


METHODS: dict[str, Method] = {}


def method(name: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
    """Register ``handler`` as Subsonic method ``name``."""

    def register(handler: Handler) -> Handler:
        METHODS[name] = Method(name, handler, auth)
        return handler

    return register
