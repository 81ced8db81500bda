from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from amends.core.models import BaseModel


class Category(BaseModel):
    """What kind of failure a case is about; two levels (e.g. Billing › Overcharge)."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["parent__name", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="category_unique_name_in_parent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name

    def clean(self) -> None:
        if self.parent_id and self.parent and self.parent.parent_id:
            raise ValidationError({"parent": "Categories have two levels at most."})
        if self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": "A category cannot be its own parent."})


class Service(BaseModel):
    """A service or product the organisation offers (broadband, flight, current account)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RootCause(BaseModel):
    """Why a failure happened (a broken process, a supplier, expectations mismanaged, …)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # The one root cause that is about the gap itself: the customer was led to expect more
    # than we deliver (PRODUCT.md idea 1). Reports single it out.
    expectations_mismanaged = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["expectations_mismanaged"],
                condition=models.Q(expectations_mismanaged=True),
                name="rootcause_one_expectations_mismanaged",
            ),
        ]

    def __str__(self) -> str:
        return self.name
