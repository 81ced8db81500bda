"""The one registry of timeline event kinds (CaseEvent.kind) and their labels.

Each app that writes events on a case's timeline declares its kinds as `TextChoices` in its
`choices.py` and registers them from its `AppConfig.ready()`:
`event_kinds_register(RemedyEventKind)`. The timeline (web and API) labels every kind from here;
a kind nobody registered is shown humanized (`remedy_chosen` → "Remedy chosen").
"""

from __future__ import annotations

from django.db import models

from amends.cases.choices import CaseEventKind

_LABELS: dict[str, str] = {}


def event_kinds_register(choices: type[models.TextChoices]) -> None:
    """Register `choices`' kinds; a kind already registered keeps its first label."""
    for value, label in choices.choices:
        _LABELS.setdefault(str(value), str(label))


def event_kind_label(kind: str) -> str:
    return _LABELS.get(kind) or kind.replace("_", " ").capitalize()


def event_kind_labels() -> dict[str, str]:
    """Every registered kind and its label."""
    return dict(_LABELS)


event_kinds_register(CaseEventKind)
