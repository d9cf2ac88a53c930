"""torrents.json keeps history: replaced torrents turn obsolete, operator embargoes persist."""

from __future__ import annotations

from musark.pack.torrents_json import merge


def entry(name: str, btih: str, **kw) -> dict:
    return {
        "name": name,
        "btih": btih,
        "group": "batches",
        "added_at": "2026-01-01T00:00:00Z",
        "obsolete": False,
        "embargo": False,
        **kw,
    }


def test_a_rebuilt_torrent_keeps_the_operators_embargo():
    old = [entry("keep__0001", "a" * 40, embargo=True)]
    merged = merge(old, [entry("keep__0001", "a" * 40)])
    assert len(merged) == 1 and merged[0]["embargo"] is True


def test_a_replaced_torrent_becomes_obsolete_and_the_new_one_is_live():
    old = [entry("index", "a" * 40)]
    merged = merge(old, [entry("index", "b" * 40)])
    by_btih = {e["btih"]: e for e in merged}
    assert by_btih["a" * 40]["obsolete"] is True
    assert by_btih["b" * 40]["obsolete"] is False and by_btih["b" * 40]["embargo"] is False
