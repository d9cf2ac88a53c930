"""Exclusion files (rights-holder requests): one ``kind:value`` per line, loaded into the catalogue.

Kinds: ``track`` (track id), ``isrc``, ``artist`` (artist id: every track the artist appears on),
``album`` (album id) and ``label`` (albums.label, compared case-insensitively). Blank lines and
lines starting with ``#`` are ignored. Exclusions accumulate in the ``plan_exclusions`` table, so a
request once given keeps applying to every later plan.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from musark.ids import is_valid_id

KINDS = ("track", "isrc", "artist", "album", "label")

EXCLUSIONS_DDL = """
CREATE TABLE IF NOT EXISTS plan_exclusions (
    kind VARCHAR NOT NULL,      -- track | isrc | artist | album | label
    value VARCHAR NOT NULL,     -- normalised: ISRC upper-case without '-', label lower-case
    source VARCHAR NOT NULL     -- 'file:line' of the request
)"""


def _normalise(kind: str, value: str) -> str:
    if kind == "isrc":
        return value.replace("-", "").replace(" ", "").upper()
    if kind == "label":
        return value.strip().lower()
    return value.strip()


def parse_exclusions(path: Path) -> list[tuple[str, str, str]]:
    """Return (kind, value, 'file:line') for every request in ``path``; ValueError names the bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read exclusion file: {exc}") from exc
    rows: list[tuple[str, str, str]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, sep, value = line.partition(":")
        kind = kind.strip().lower()
        value = _normalise(kind, value)
        where = f"{path}:{lineno}"
        if not sep or kind not in KINDS:
            raise ValueError(f"{where}: expected 'kind:value' with kind one of {', '.join(KINDS)}")
        if not value:
            raise ValueError(f"{where}: empty {kind}")
        if kind in ("track", "artist", "album") and not is_valid_id(value):
            raise ValueError(f"{where}: invalid {kind} id {value!r}")
        rows.append((kind, value, where))
    return rows


def load_exclusions(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int:
    """Parse every file first (all or nothing), then add new requests; return how many were new."""
    con.execute(EXCLUSIONS_DDL)
    rows = [r for p in paths for r in parse_exclusions(p)]
    if not rows:
        return 0
    table = pa.table(
        {
            "kind": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "source": [r[2] for r in rows],
        }
    )
    con.register("_new_exclusions", table)
    try:
        before = con.execute("SELECT count(*) FROM plan_exclusions").fetchall()[0][0]
        con.execute(
            """
            INSERT INTO plan_exclusions
            SELECT kind, value, min(source) FROM _new_exclusions n
            WHERE NOT EXISTS (SELECT 1 FROM plan_exclusions e WHERE e.kind = n.kind AND e.value = n.value)
            GROUP BY kind, value ORDER BY kind, value
            """
        )
        return con.execute("SELECT count(*) FROM plan_exclusions").fetchall()[0][0] - before
    finally:
        con.unregister("_new_exclusions")


# kind -> rows (track id, compared value) the kind's value is matched against
_MATCH = {
    "track": "SELECT id AS track_id, id AS v FROM tracks",
    "isrc": "SELECT id, isrc FROM tracks",
    "album": "SELECT id, album_id FROM tracks",
    "artist": "SELECT track_id, artist_id FROM track_artists",
    "label": "SELECT t.id, lower(trim(a.label)) FROM tracks t JOIN albums a ON a.id = t.album_id",
}


def excluded_tracks_sql() -> str:
    """SQL selecting (track_id, reason) for every catalogued track hit by a stored exclusion."""
    parts = " UNION ALL ".join(
        f"SELECT m.track_id, '{kind}:' || e.value AS reason FROM ({sql}) m(track_id, v) "
        f"JOIN plan_exclusions e ON e.kind = '{kind}' AND m.v = e.value"
        for kind, sql in _MATCH.items()
    )
    return f"SELECT track_id, min(reason) AS reason FROM ({parts}) GROUP BY track_id"
