"""Background tasks (django-tasks): run by `amends worker`, immediately in tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task


@task()
def outbound_send() -> int:
    """Send every queued email that is due now."""
    from amends.channels.services.outbound import outbound_sweep

    return outbound_sweep(now=timezone.now())


@task()
def webhooks_deliver() -> int:
    """Post every webhook delivery that is due now."""
    from amends.channels.services.webhooks import webhook_sweep

    return webhook_sweep(now=timezone.now())


class _Enqueued:
    """An on-commit callback that does nothing: while it is pending, `task` has been asked for
    in the current transaction. It leaves the list with the transaction (run at commit,
    dropped at a rollback) and with a savepoint rolled back around the request, exactly as
    the task's row does with the database backend."""

    def __init__(self, task: Any) -> None:
        self.task = task

    def __call__(self) -> None:
        return None


def _asked_in_transaction(connection: Any, task: Any) -> bool:
    return any(
        isinstance(func, _Enqueued) and func.task is task
        for _savepoints, func, _robust in connection.run_on_commit
    )


def enqueue_with_commit(task_to_run: Any, after_commit: Callable[[], None]) -> None:
    """Have `task_to_run` (a task without arguments: it sweeps everything due) run once the
    caller's transaction commits; asked for again in the same transaction, nothing more is
    done (a Maildir taken 50 messages to a transaction queues 50 confirmations and needs one
    task to send them).

    With the database task backend (django-tasks-db, the default without Redis) the task is a
    row written in that transaction: it commits (or rolls back) with the rows it is about, so
    the caller's work costs one commit, not a second one for the task after it (on PostgreSQL
    each commit waits for the disk). An error writing it is then the transaction's error, like
    any other row's. Any other backend (Redis, the immediate one of the tests) cannot see
    uncommitted rows: `after_commit` (which enqueues and logs a failure) runs on commit."""
    from django_tasks_db.backend import DatabaseBackend

    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        transaction.on_commit(after_commit, robust=True)  # runs at once
        return
    if _asked_in_transaction(connection, task_to_run):
        return
    if isinstance(task_to_run.get_backend(), DatabaseBackend):
        task_to_run.enqueue()
    else:
        transaction.on_commit(after_commit, robust=True)
    transaction.on_commit(_Enqueued(task_to_run))
