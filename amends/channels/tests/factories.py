from __future__ import annotations

from typing import Any

import factory

from amends.cases.tests.factories import CaseFactory
from amends.channels.models import OutboundEmail, PortalLink
from amends.channels.services.outbound import email_queue
from amends.channels.services.portal import portal_link_issue
from amends.core.testing import ModelFactory


class OutboundEmailFactory(ModelFactory[OutboundEmail]):
    """An email queued through the real outbound service."""

    class Meta:
        model = OutboundEmail

    to = factory.Sequence(lambda n: f"person{n}@example.com")
    subject = "About your complaint"
    body = "We are sorry."
    automatic = False
    kind = "reply"

    @classmethod
    def _create(cls, model_class: type[OutboundEmail], *args: Any, **kwargs: Any) -> OutboundEmail:
        return email_queue(**kwargs)


class PortalLinkFactory(ModelFactory[PortalLink]):
    class Meta:
        model = PortalLink

    case = factory.SubFactory(CaseFactory)

    @classmethod
    def _create(cls, model_class: type[PortalLink], *args: Any, **kwargs: Any) -> PortalLink:
        kwargs.setdefault("actor", None)
        return portal_link_issue(**kwargs)
