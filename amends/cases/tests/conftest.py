from __future__ import annotations

from collections.abc import Iterator

import pytest

from amends.core import hooks

# The cases app's own tests check what its services do: exactly the events, versions and
# clocks it writes. The floors above react to the same hooks (settlement, surveys, scores,
# facts) and are tested in their own apps, so their reactions are switched off here.
CASES_AND_BELOW = (
    "amends.core",
    "amends.accounts",
    "amends.customers",
    "amends.taxonomy",
    "amends.policies",
    "amends.cases",
)


@pytest.fixture(autouse=True)
def _only_cases_and_below() -> Iterator[None]:
    removed: list[tuple[hooks.Hook[object], object]] = []
    for hook in hooks.all_hooks():
        for fn in hook.subscribers:
            if not getattr(fn, "__module__", "").startswith(CASES_AND_BELOW):
                hook.unsubscribe(fn)
                removed.append((hook, fn))
    yield
    for hook, fn in removed:
        hook.subscribe(fn)  # type: ignore[arg-type]
