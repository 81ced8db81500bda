from __future__ import annotations

import factory

from amends.core.testing import ModelFactory
from amends.policies.models import Calendar, Holiday, Playbook, PlaybookStep, SlaTarget


class CalendarFactory(ModelFactory[Calendar]):
    """Weekdays 09:00-17:00 in London unless told otherwise."""

    class Meta:
        model = Calendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "Europe/London"
    hours = factory.LazyFunction(
        lambda: {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    )


class HolidayFactory(ModelFactory[Holiday]):
    class Meta:
        model = Holiday

    calendar = factory.SubFactory(CalendarFactory)
    name = "Holiday"


class PlaybookFactory(ModelFactory[Playbook]):
    class Meta:
        model = Playbook

    name = factory.Sequence(lambda n: f"Playbook {n}")


class PlaybookStepFactory(ModelFactory[PlaybookStep]):
    class Meta:
        model = PlaybookStep

    playbook = factory.SubFactory(PlaybookFactory)
    step = "acknowledge"
    required = True
    position = factory.Sequence(lambda n: n)


class SlaTargetFactory(ModelFactory[SlaTarget]):
    class Meta:
        model = SlaTarget

    playbook = factory.SubFactory(PlaybookFactory)
    severity = 3
    acknowledge_minutes = 60
    resolve_minutes = 480
