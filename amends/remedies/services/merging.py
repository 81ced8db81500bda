"""When a duplicate case is merged, its remedies and choice menus move to the surviving case."""

from __future__ import annotations

from django.utils import timezone

from amends.core import hooks
from amends.remedies.models import ChoiceMenu, Remedy


def on_case_merged(payload: hooks.CaseMerged) -> None:
    now = timezone.now()
    Remedy.objects.filter(case_id=payload.duplicate_id).update(
        case_id=payload.survivor_id, updated_at=now
    )
    ChoiceMenu.objects.filter(case_id=payload.duplicate_id).update(
        case_id=payload.survivor_id, updated_at=now
    )


def subscribe() -> None:
    hooks.case_merged.subscribe(on_case_merged)
