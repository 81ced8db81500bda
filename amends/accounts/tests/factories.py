from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.models import StaffProfile, Team
from amends.core.testing import ModelFactory


class TeamFactory(ModelFactory[Team]):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(ModelFactory[User]):
    """A staff user. `UserFactory(role=Role.SUPERVISOR, team=team)`; password is "pw"."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        role = kwargs.pop("role", Role.AGENT)
        team = kwargs.pop("team") if "team" in kwargs else TeamFactory()
        user = super()._create(model_class, *args, **kwargs)
        StaffProfile.objects.create(user=user, role=role, team=team)
        return user
