"""Test helpers for the hook registry (imported only by tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model
from factory.django import DjangoModelFactory

from amends.core import hooks

P = TypeVar("P")
M = TypeVar("M", bound=Model)


class ModelFactory(DjangoModelFactory[M]):
    """factory_boy's model factory, typed: `CaseFactory()` is a `Case` to mypy.

    `class CaseFactory(ModelFactory[Case])` with the usual `class Meta: model = Case`.
    """

    if TYPE_CHECKING:
        # Calling a factory builds or creates its model (factory_boy's metaclass does it).
        def __new__(cls, *args: Any, **kwargs: Any) -> M: ...  # type: ignore[misc]


@contextmanager
def hook_recorded(hook: hooks.Hook[P]) -> Iterator[list[P]]:
    """Every payload `hook` emits inside the block, in order."""
    seen: list[P] = []
    hook.subscribe(seen.append)
    try:
        yield seen
    finally:
        hook.unsubscribe(seen.append)


@contextmanager
def hooks_only_from(keep: Callable[[str], bool]) -> Iterator[None]:
    """Detach, for the block, every subscriber whose module `keep` refuses; put them back after."""
    removed: list[tuple[hooks.Hook[object], Callable[[object], None]]] = []
    for hook in hooks.all_hooks():
        for fn in hook.subscribers:
            if not keep(getattr(fn, "__module__", "")):
                hook.unsubscribe(fn)
                removed.append((hook, fn))
    try:
        yield
    finally:
        for hook, fn in removed:
            hook.subscribe(fn)
