import types
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from ninja import Schema
from pydantic import Field, ValidationInfo, field_validator

from amends.core.pagination import paginate
from amends.core.validation import (
    date_check,
    datetime_check,
    decimal_check,
    strict_raw_check,
    text_check,
)

T = TypeVar("T")
M = TypeVar("M", bound=Model)

# A row id as a client may send it: positive and within a 64-bit integer, so an absurd number
# is invalid input (422) rather than an overflow inside the database driver (500).
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


_STRICT_KINDS = (bool, int, Decimal, datetime, date)


def _scalar_kind(annotation: Any) -> type | None:
    """`int | None` -> int; `datetime` -> datetime; anything else (lists, schemas) -> None."""
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [a for a in get_args(annotation) if a is not type(None)]
        if len(kinds) != 1:
            return None
        annotation = kinds[0]
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation if annotation in _STRICT_KINDS else None


class InSchema(Schema):
    """Base for every input schema (bodies and query strings); the rules of core.validation.

    - Text with a NUL character can never be stored (PostgreSQL refuses it): 422.
    - Types are strict: `0` is not `false`, `"1_000"` is not 1000, a number is not a date.
    - Datetimes and dates lie in the window the database can store; decimals are finite and
      no larger than the biggest amount we store.
    """

    @field_validator("*", mode="before")
    @classmethod
    def _strict_raw(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            text_check(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    text_check(item)
        field = cls.model_fields.get(info.field_name or "")
        kind = _scalar_kind(field.annotation) if field is not None else None
        return strict_raw_check(kind, value) if kind is not None else value

    @field_validator("*", mode="after")
    @classmethod
    def _window(cls, value: object) -> object:
        if isinstance(value, datetime):
            return datetime_check(value)
        if isinstance(value, date):
            return date_check(value)
        if isinstance(value, Decimal):
            return decimal_check(value)
        return value


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, object] = Field(default_factory=dict)


# The one error table: every endpoint answers these statuses as ErrorOut (413: a body over
# the size limit, answered by core.middleware for any request).
ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}


class PageOut(Schema, Generic[T]):
    items: list[T]
    page: int
    size: int
    has_next: bool


def username_of(user: User | None) -> str | None:
    """How the API names a person in its outputs: the username, or null."""
    return user.username if user is not None else None


def page_out(queryset: QuerySet[M], *, page: int = 1, size: int | None = None) -> dict[str, object]:
    """One page of `queryset` as a `PageOut` body (core.pagination: one extra row, no COUNT)."""
    result = paginate(queryset, page=page, size=size)
    return {
        "items": result.items,
        "page": result.page,
        "size": result.size,
        "has_next": result.has_next,
    }


class CustomerIn(InSchema):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=40)
    external_ref: str | None = Field(default=None, max_length=100)
    tier: str = "standard"
    special_handling: bool = False
    special_handling_reason: str = Field(default="", max_length=500)
    contract_end_date: date | None = None
    loyalty_status: str = "active"


class CustomerOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    external_ref: str | None
    tier: str
    special_handling: bool
    special_handling_reason: str
    contract_end_date: date | None
    loyalty_status: str
    risk_score: int = Field(default=0, description="Loyalty risk, 0-100 (docs/loyalty.md)")
    created_at: datetime

    @staticmethod
    def resolve_risk_score(obj: object) -> int:
        # The loyalty app keeps one risk row per customer; none yet means nothing against them.
        risk = getattr(obj, "loyalty_risk", None)
        return int(risk.score) if risk is not None else 0
