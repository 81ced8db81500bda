"""Shared by `amends import cfpb` and `amends import csv`: the file, the progress bar on a
terminal, the reject file and the summary line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError

from amends.channels.services.imports import (
    ImportHeaderError,
    ImportSummary,
    Rejects,
    connection_tune_for_import,
)


@contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("import", total=total)
        yield lambda done: bar.update(task, completed=done)


def run_import(
    path: str,
    reject_path: str | None,
    show_progress: bool | None,
    work: Callable[..., ImportSummary],
    write: Callable[[str], None],
) -> ImportSummary:
    source = Path(path)
    if not source.is_file():
        raise CommandError(f"{path}: no such file")
    rejects_file = (
        Path(reject_path) if reject_path else source.with_name(source.name + ".rejects.csv")
    )
    rejects = Rejects(rejects_file)
    enabled = sys.stderr.isatty() if show_progress is None else show_progress
    connection_tune_for_import()  # for chunks written on this thread (see the writer's own)
    try:
        with source.open("rb") as raw, progress_bar(source.stat().st_size, enabled) as progress:
            summary = work(raw=raw, rejects=rejects, progress=progress)
    except ImportHeaderError as exc:
        raise CommandError(exc.message) from exc
    finally:
        rejects.close()
    if summary.rejected:
        write(f"rejected rows written to {rejects_file}")
    write(summary.line)
    return summary
