"""Tags on cases: short labels agents add and remove, for filtering queues. Audited."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction

from amends.cases.choices import CaseEventKind
from amends.cases.models import Case, Tag
from amends.cases.services.events import case_event_record
from amends.cases.services.workflow import case_lock
from amends.core import hooks
from amends.core.exceptions import ApplicationError

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,49}$")
MAX_TAGS_PER_CASE = 20


def tag_name_clean(name: str) -> str:
    """A tag's stored form: trimmed, lower case, inner spaces as hyphens; refused if odd."""
    clean = re.sub(r"\s+", "-", name.strip().lower())
    if not TAG_RE.match(clean):
        raise ApplicationError(
            f"{name.strip()[:60]!r} is not a tag: use up to 50 letters, digits, - or _.",
            code="invalid_tag",
            status=422,
            detail={"tags": ["Letters, digits, - and _ only; at most 50 characters."]},
        )
    return clean


@transaction.atomic
def case_tags_change(
    *,
    case: Case,
    actor: User,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    version: int | None = None,
) -> Case:
    """Add and remove tags on a case (unknown tags are created); one timeline event names them."""
    to_add = sorted({tag_name_clean(n) for n in add})
    to_remove = sorted({tag_name_clean(n) for n in remove} - set(to_add))
    case = case_lock(case=case, version=version)
    current = set(case.tags.values_list("name", flat=True))
    added = [n for n in to_add if n not in current]
    removed = [n for n in to_remove if n in current]
    if not added and not removed:
        return case
    if len(current) + len(added) - len(removed) > MAX_TAGS_PER_CASE:
        raise ApplicationError(
            f"A case has at most {MAX_TAGS_PER_CASE} tags.", code="too_many_tags", status=422
        )
    if added:
        existing = {t.name: t for t in Tag.objects.filter(name__in=added)}
        new = [Tag(name=n) for n in added if n not in existing]
        Tag.objects.bulk_create(new, ignore_conflicts=True)
        case.tags.add(*Tag.objects.filter(name__in=added))
    if removed:
        case.tags.remove(*Tag.objects.filter(name__in=removed))
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    case_event_record(
        case=case,
        kind=CaseEventKind.TAGGED,
        actor=actor,
        data={"added": added, "removed": removed},
    )
    hooks.case_changed.emit(hooks.CaseChanged(case_id=case.pk, fields=("tags",), actor_id=actor.pk))
    return case
