from __future__ import annotations

from collections.abc import Iterator

import pytest

from amends.core.testing import hooks_only_from

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
    with hooks_only_from(lambda module: module.startswith(CASES_AND_BELOW)):
        yield
