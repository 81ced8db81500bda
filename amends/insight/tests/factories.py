from __future__ import annotations

from typing import Any

from amends.cases.choices import MessageDirection
from amends.cases.models import Case, Message
from amends.cases.services.messages import case_message_add
from amends.cases.tests.factories import CaseFactory

UPSET_TEXT = (
    "This is the THIRD time my broadband has gone down this month!!! Nobody called me back. "
    "I am absolutely furious and I will cancel my contract and go to the ombudsman."
)
CALM_TEXT = "Thanks for the quick reply, the new router works well and the speed is great."


def case_with_text(text: str, **kwargs: Any) -> Case:
    """A case opened through the real intake (insight scores it through the hook)."""
    return CaseFactory(description=text, **kwargs)


def inbound(case: Case, body: str) -> Message:
    return case_message_add(case=case, direction=MessageDirection.INBOUND, body=body, actor=None)
