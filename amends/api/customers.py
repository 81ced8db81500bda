from django.db.models import prefetch_related_objects
from ninja import Query, Router, Status
from pydantic import Field

from amends.accounts.selectors import staff_profile_of
from amends.api.schemas import ERRORS, CustomerIn, CustomerOut, InSchema, PageOut
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.customers.models import Customer
from amends.customers.selectors import customer_get_for_user, customer_search
from amends.customers.services import customer_create

router = Router(tags=["customers"])


class CustomerSearchQuery(InSchema):
    q: str = Field(default="", max_length=200, description="Reference, email, phone or name prefix")
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=25, ge=1, le=200)


@router.post("", response={201: CustomerOut, **ERRORS}, summary="Create a customer")
def customer_create_endpoint(request: AuthedRequest, payload: CustomerIn) -> Status[Customer]:
    staff_profile_of(user=request.user)
    return Status(201, customer_create(actor=request.user, **payload.dict()))


@router.get("", response={200: PageOut[CustomerOut], **ERRORS}, summary="Search customers")
def customer_search_endpoint(
    request: AuthedRequest, query: Query[CustomerSearchQuery]
) -> dict[str, object]:
    page = paginate(
        customer_search(query=query.q, user=request.user), page=query.page, size=query.size
    )
    prefetch_related_objects(page.items, "loyalty_risk")  # risk_score without a query per row
    return {"items": page.items, "page": page.page, "size": page.size, "has_next": page.has_next}


@router.get("/{int:customer_id}", response={200: CustomerOut, **ERRORS}, summary="Get a customer")
def customer_get_endpoint(request: AuthedRequest, customer_id: int) -> Customer:
    return customer_get_for_user(customer_id=customer_id, user=request.user)
