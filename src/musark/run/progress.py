"""Progress of a job run: files done, files/s, bytes/s, failures and ETA on one rich bar."""

from __future__ import annotations

from rich.filesize import decimal
from rich.progress import Progress, ProgressColumn, Task
from rich.text import Text

from musark.console import progress


class FilesRateColumn(ProgressColumn):
    """Completed jobs per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} files/s" if speed else "- files/s", style="progress.data.speed")


class BytesRateColumn(ProgressColumn):
    """Input bytes per second (from the ``bytes`` task field)."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        done = task.fields.get("bytes", 0)
        rate = done / elapsed if elapsed else 0
        return Text(f"{decimal(int(rate))}/s", style="progress.data.speed")


class FailuresColumn(ProgressColumn):
    """Quarantined or failed jobs so far."""

    def render(self, task: Task) -> Text:
        n = task.fields.get("failures", 0)
        return Text(f"{n} failed", style="red" if n else "dim")


def job_progress(disable: bool | None = None) -> Progress:
    """A progress bar for a job run; update it with ``advance=1, bytes=…, failures=…``."""
    return progress(disable=disable, extra=(FilesRateColumn(), BytesRateColumn(), FailuresColumn()))
