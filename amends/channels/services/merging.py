"""When a duplicate case is merged, the files sent on it move to the surviving case."""

from __future__ import annotations

from amends.channels.models import Attachment
from amends.core import hooks


def on_case_merged(payload: hooks.CaseMerged) -> None:
    Attachment.objects.filter(case_id=payload.duplicate_id).update(case_id=payload.survivor_id)


def subscribe() -> None:
    hooks.case_merged.subscribe(on_case_merged)
