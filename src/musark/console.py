"""Terminal output shared by every command: rich console, progress bars, and --json emission."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

console = Console(stderr=True)
out = Console()


def progress(
    *, transfer: bool = False, disable: bool | None = None, extra: Sequence[ProgressColumn] = ()
) -> Progress:
    """A progress bar (counts, rate, ETA); bytes/s when ``transfer``. Hidden when not a terminal.

    ``extra`` columns (e.g. files/s, failures) go between the counts and the times.
    """
    columns: list[Any] = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn() if not transfer else TransferSpeedColumn(),
        *extra,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    if disable is None:
        disable = not console.is_terminal
    return Progress(*columns, console=console, disable=disable, transient=False)


def emit_json(obj: Any) -> None:
    """Print one JSON object on stdout (the --json contract: machine-readable, nothing else)."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True, default=str, ensure_ascii=False))
    sys.stdout.write("\n")
    sys.stdout.flush()


def print_table(
    title: str, rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None
) -> None:
    """Print rows of dicts as a rich table on stdout."""
    rows = list(rows)
    table = Table(title=title)
    cols = columns or (list(rows[0].keys()) if rows else [])
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
    out.print(table)


def print_kv(title: str, data: Mapping[str, Any]) -> None:
    """Print a two-column key/value table."""
    print_table(title, ({"key": k, "value": v} for k, v in data.items()), ["key", "value"])
