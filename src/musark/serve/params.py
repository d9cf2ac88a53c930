"""Request parameters from the query string and a form POST body (OpenSubsonic ``formPost``)."""

from __future__ import annotations

from starlette.requests import Request

from musark.serve.errors import bad_value, missing

# Clients send the empty search as query="" (two quote characters) as well as query=.
_EMPTY_LITERALS = ('""', "''")


class Params:
    """Multi-valued parameters with typed, validated accessors that raise Subsonic errors."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    @classmethod
    async def read(cls, request: Request) -> Params:
        """Collect query-string and form-body parameters (form values follow the query's)."""
        items = list(request.query_params.multi_items())
        if request.method == "POST":
            ctype = request.headers.get("content-type", "")
            if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await request.form()
                items.extend((k, v) for k, v in form.multi_items() if isinstance(v, str))
        return cls(items)

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of ``name``, or ``default``."""
        for k, v in self._items:
            if k == name:
                return v
        return default

    def getlist(self, name: str) -> list[str]:
        """Every value of ``name`` in request order."""
        return [v for k, v in self._items if k == name]

    def has(self, name: str) -> bool:
        """True when ``name`` was sent at all (even empty)."""
        return any(k == name for k, _ in self._items)

    def require(self, name: str) -> str:
        """Value of ``name``; error 10 when absent or empty."""
        value = self.get(name)
        if value is None or value == "":
            raise missing(name)
        return value

    def int(
        self, name: str, default: int | None = None, *, lo: int = 0, hi: int = 1 << 62
    ) -> int | None:
        """Integer value of ``name`` within [lo, hi]; error 0 when not an integer or out of range."""
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_value(name, raw, "not an integer") from None
        if not lo <= value <= hi:
            raise bad_value(name, raw, f"must be between {lo} and {hi}")
        return value

    def bool(self, name: str, default: bool = False) -> bool:
        """Boolean value of ``name`` (``true``/``1``)."""
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        return raw.lower() in ("true", "1", "yes")

    def query_text(self, name: str = "query") -> str:
        """Search text with the clients' literal ``""`` treated as the empty query."""
        raw = (self.get(name) or "").strip()
        return "" if raw in _EMPTY_LITERALS else raw
