from datetime import date, datetime
from typing import Annotated, Generic, TypeVar

from ninja import Schema
from pydantic import Field, field_validator

T = TypeVar("T")

# A row id as a client may send it: positive and within a 64-bit integer, so an absurd number
# is invalid input (422) rather than an overflow inside the database driver (500).
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class InSchema(Schema):
    """Base for every input schema (bodies and query strings).

    Text with a NUL character can never be stored (PostgreSQL refuses it), so it is invalid
    input (422) rather than a server error.
    """

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Text may not contain NUL characters.")
        return value


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, object] = Field(default_factory=dict)


class PageOut(Schema, Generic[T]):
    items: list[T]
    page: int
    size: int
    has_next: bool


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
