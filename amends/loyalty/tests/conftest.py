from __future__ import annotations

from collections.abc import Iterator

import pytest

from amends.core import hooks

# Apps on the floors between commitments and loyalty react to the same events (insight scores
# a description as upset, incidents and feedback add their own rows). Loyalty's unit tests feed
# those apps' signals through the hooks themselves, so their reactions are switched off here
# to keep the hand-computed figures exact.
OTHER_REACTORS = ("amends.insight", "amends.feedback", "amends.incidents", "amends.channels")


@pytest.fixture(autouse=True)
def _only_loyalty_reactions() -> Iterator[None]:
    removed: list[tuple[hooks.Hook[object], object]] = []
    for hook in hooks.all_hooks():
        for fn in hook.subscribers:
            if getattr(fn, "__module__", "").startswith(OTHER_REACTORS):
                hook.unsubscribe(fn)
                removed.append((hook, fn))
    yield
    for hook, fn in removed:
        hook.subscribe(fn)  # type: ignore[arg-type]
