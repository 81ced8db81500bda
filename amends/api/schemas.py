from datetime import date, datetime
from typing import Generic, TypeVar

from ninja import Schema
from pydantic import Field

T = TypeVar("T")


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, object] = Field(default_factory=dict)


class PageOut(Schema, Generic[T]):
    items: list[T]
    page: int
    size: int
    has_next: bool


class CustomerIn(Schema):
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
    created_at: datetime
