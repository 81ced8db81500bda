import pytest

from amends.feedback.tests.factories import Org


@pytest.fixture
def org() -> Org:
    return Org()
