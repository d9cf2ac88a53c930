"""Human-readable output of locate, fetch and verify (the --json forms are the reports' as_dict)."""

from __future__ import annotations

from collections import defaultdict

from musark.console import out, print_table
from musark.mirror.fetch import FetchReport
from musark.mirror.locate import LocateReport
from musark.mirror.verify import VerifyReport


def _size(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def print_locate(report: LocateReport) -> None:
    """One table of hits, then each file's magnet link (BEP 53 so= selects the file)."""
    if not report.hits:
        out.print(f"no track matches {report.query!r}")
        return
    rows = [
        {
            "track": h.track_id,
            "artists – title": f"{h.artists} – {h.title}",
            "batch": h.batch or "(not archived)",
            "index": h.file_index,
            "size": _size(h.size),
            "here": "yes" if report.present(h) else "no",
        }
        for h in report.hits
    ]
    print_table(f"{len(rows)} hit(s) for {report.query!r} ({report.kind})", rows)
    for h in report.hits:
        if h.file_magnet:
            out.print(f"{h.track_id} {h.path} isrc {h.isrc} sha256 {h.sha256}", soft_wrap=True)
            out.print(f"  {h.file_magnet}", soft_wrap=True)


def print_fetch(report: FetchReport) -> None:
    """Per-file outcome, then what could not be resolved."""
    rows = [
        {
            "track": f.track_id,
            "batch": f.batch,
            "path": f.path,
            "size": _size(f.size),
            "status": f.status,
            "note": f.reason or (f"previous file moved to {f.replaced}" if f.replaced else ""),
        }
        for f in report.files
    ]
    if rows:
        print_table("fetch", rows)
    for q in report.not_found:
        out.print(f"[red]not found:[/] {q}")
    for q in report.not_archived:
        out.print(f"[yellow]catalogued but not in any released batch:[/] {q}")
    counts = report.as_dict()["counts"]
    out.print(", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing to fetch")


def print_verify(report: VerifyReport) -> None:
    """Counts per batch, then each problem; files never mirrored here are only counted (--json lists them)."""
    rows = [
        {k: v for k, v in b.__dict__.items() if k != "released"} | {"released": b.released}
        for b in report.batches
    ]
    print_table("verify", rows)
    partial: dict[str, int] = defaultdict(int)
    for i in report.issues:
        if i.status == "missing" and not i.lost:
            partial[i.batch] += 1
            continue
        style = {"corrupt": "red", "missing": "yellow", "unexpected": "cyan"}[i.status]
        note = f" ({i.reason})" if i.reason else ""
        lost = " [bold]previously verified[/]" if i.lost else ""
        out.print(f"[{style}]{i.status}[/]{lost} {i.batch}/{i.path}{note}", soft_wrap=True)
    for batch, n in partial.items():
        out.print(f"{batch}: {n} file(s) of the batch not in this mirror (never verified here)")
    for r in report.repaired:
        moved = f"; bad copy kept at {r.moved_to}" if r.moved_to else ""
        out.print(f"[green]repaired[/] {r.batch}/{r.path} ({r.reason}{moved})", soft_wrap=True)
    t = report.totals()
    rate = report.as_dict()["gb_per_s"]
    out.print(
        f"{t['ok']} ok, {t['missing']} missing, {t['corrupt']} corrupt, {t['unexpected']} unexpected, "
        f"{t['skipped']} skipped (verified recently), {t['repaired']} repaired; "
        f"{report.batches_absent} released batch(es) not mirrored here; "
        f"{report.bytes_hashed:,} bytes hashed in {report.seconds:.2f} s"
        + (f" ({rate} GB/s, {report.threads} threads)" if rate else "")
    )
