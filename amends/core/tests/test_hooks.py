from __future__ import annotations

import dataclasses

import pytest
from django.db import transaction

from amends.core import hooks

pytestmark = pytest.mark.django_db(transaction=True)


@dataclasses.dataclass(frozen=True)
class Ping:
    n: int


def _hook(when: hooks.When) -> hooks.Hook[Ping]:
    return hooks.Hook("ping", Ping, when, "test hook")


def test_hook_in_transaction_runs_subscribers_at_once_in_order() -> None:
    hook = _hook(hooks.When.IN_TRANSACTION)
    seen: list[tuple[str, int]] = []
    hook.subscribe(lambda p: seen.append(("a", p.n)))
    hook.subscribe(lambda p: seen.append(("b", p.n)))
    with transaction.atomic():
        hook.emit(Ping(1))
        assert seen == [("a", 1), ("b", 1)]


def test_hook_in_transaction_subscriber_error_aborts_the_emitter() -> None:
    hook = _hook(hooks.When.IN_TRANSACTION)

    def boom(p: Ping) -> None:
        raise RuntimeError("no")

    hook.subscribe(boom)
    with pytest.raises(RuntimeError):
        hook.emit(Ping(1))


def test_hook_on_commit_waits_for_commit_and_skips_rollback() -> None:
    hook = _hook(hooks.When.ON_COMMIT)
    seen: list[int] = []
    hook.subscribe(lambda p: seen.append(p.n))
    with transaction.atomic():
        hook.emit(Ping(1))
        assert seen == []
    assert seen == [1]

    def emit_then_fail() -> None:
        with transaction.atomic():
            hook.emit(Ping(2))
            raise ValueError("rollback")

    with pytest.raises(ValueError, match="rollback"):
        emit_then_fail()
    assert seen == [1]


def test_hook_subscribe_is_idempotent_and_checks_payload_type() -> None:
    hook = _hook(hooks.When.IN_TRANSACTION)
    seen: list[int] = []

    def fn(p: Ping) -> None:
        seen.append(p.n)

    hook.subscribe(fn)
    hook.subscribe(fn)
    hook.emit(Ping(3))
    assert seen == [3]
    with pytest.raises(TypeError):
        hook.emit("not a ping")  # type: ignore[arg-type]  # the check under test


def test_all_hooks_are_listed_with_payload_and_doc() -> None:
    every = hooks.all_hooks()
    names = {hook.name for hook in every}
    assert {"case_opened", "case_status_changed", "message_added", "survey_answered"} <= names
    for hook in every:
        assert dataclasses.is_dataclass(hook.payload)
        assert hook.doc


def test_every_hook_is_listed_in_the_architecture_doc() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "architecture.md").read_text()
    missing = [hook.name for hook in hooks.all_hooks() if f"`{hook.name}`" not in doc]
    assert missing == []
