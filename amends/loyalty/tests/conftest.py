from __future__ import annotations

from collections.abc import Iterator

import pytest

from amends.core.testing import hooks_only_from

# Apps on the floors between commitments and loyalty react to the same events (insight scores
# a description as upset, incidents and feedback add their own rows). Loyalty's unit tests feed
# those apps' signals through the hooks themselves, so their reactions are switched off here
# to keep the hand-computed figures exact.
OTHER_REACTORS = ("amends.insight", "amends.feedback", "amends.incidents", "amends.channels")


@pytest.fixture(autouse=True)
def _only_loyalty_reactions() -> Iterator[None]:
    with hooks_only_from(lambda module: not module.startswith(OTHER_REACTORS)):
        yield
