import factory

from amends.core.testing import ModelFactory
from amends.customers.models import Customer


class CustomerFactory(ModelFactory[Customer]):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    external_ref = factory.Sequence(lambda n: f"C-{n:05d}")
