"""The job ledger records outcomes durably and hands back what the catalogue has not seen yet."""

from __future__ import annotations

from musark.run.ledger import Ledger


def test_results_are_unsynced_until_marked_and_retries_are_counted(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3", "process")
    ledger.add(
        [
            {"track_id": "a", "batch": "b1", "status": "done", "error": None},
            {"track_id": "b", "batch": "b1", "status": "quarantined", "error": "zero-length file"},
            {"track_id": "c", "batch": "b1", "status": "failed", "error": "OSError: disk"},
        ]
    )
    assert [r["track_id"] for r, _ in ledger.unsynced()] == ["a", "b"]  # failed ones are retried
    ledger.mark_synced(["a"])
    assert [r["track_id"] for r, _ in ledger.unsynced()] == ["b"]
    ledger.add([{"track_id": "c", "batch": "b1", "status": "done", "error": None}])
    assert ledger.get("c")["attempts"] == 2 and ledger.get("c")["status"] == "done"
    assert ledger.get("b")["reason"] == "zero-length file"
    ledger.close()
    reopened = Ledger(tmp_path / "ledger.sqlite3", "process")
    assert reopened.summary() == [
        {"batch": "b1", "status": "done", "count": 2},
        {"batch": "b1", "status": "quarantined", "count": 1},
    ]
    reopened.close()
