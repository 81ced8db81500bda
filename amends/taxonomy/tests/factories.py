from __future__ import annotations

import factory

from amends.core.testing import ModelFactory
from amends.taxonomy.models import Category, Service


class CategoryFactory(ModelFactory[Category]):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    parent = None


class ServiceFactory(ModelFactory[Service]):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
