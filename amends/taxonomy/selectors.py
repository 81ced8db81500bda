from __future__ import annotations

from django.db.models import QuerySet

from amends.taxonomy.models import Category, RootCause, Service


def category_list(*, active_only: bool = True) -> QuerySet[Category]:
    qs = Category.objects.select_related("parent")
    return qs.filter(active=True) if active_only else qs


def service_list(*, active_only: bool = True) -> QuerySet[Service]:
    qs = Service.objects.all()
    return qs.filter(active=True) if active_only else qs


def root_cause_list(*, active_only: bool = True) -> QuerySet[RootCause]:
    qs = RootCause.objects.all()
    return qs.filter(active=True) if active_only else qs
