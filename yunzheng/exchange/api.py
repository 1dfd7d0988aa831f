"""JSON API of the exchange app's read side, mounted by config/api.py at /api/v1/exchange/.

Uploads do not go through here (they are plain Django views under /exchange/v1/, see views.py).
Regulators (staff, by session or bearer token) read within their region; a company's upload
credential (``Authorization: Bearer yz_…``) reads its own upload statistics and rejects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.security import HttpBearer

from yunzheng.accounts.auth import user_auth
from yunzheng.accounts.credentials import authenticate_company_token
from yunzheng.accounts.models import CompanyCredential
from yunzheng.core.auth import current_user
from yunzheng.core.errors import NotFound, PermissionDenied
from yunzheng.core.pagination import MappedQuerySet, paginate
from yunzheng.exchange import selectors
from yunzheng.exchange.error_codes import ExchangeErrorCode

router = Router(tags=["exchange"])


class CompanyCredentialAuth(HttpBearer):
    """A company's upload credential (``yz_<key id>_<secret>``)."""

    def authenticate(self, request: HttpRequest, token: str) -> CompanyCredential | None:
        return authenticate_company_token(token.strip())


read_auth: list[Any] = [CompanyCredentialAuth(), *user_auth]


def _scope(request: HttpRequest) -> selectors.ReadScope:
    credential = getattr(request, "auth", None)
    if isinstance(credential, CompanyCredential):
        return selectors.read_scope_for_company(credential.company)
    return selectors.read_scope_for_user(current_user(request))


def _staff_scope(request: HttpRequest) -> selectors.ReadScope:
    scope = _scope(request)
    if not scope.is_staff:
        raise PermissionDenied(ExchangeErrorCode.OUT_OF_SCOPE, "This is for government staff only.")
    return scope


class StatsQuery(Schema):
    company: str | None = None
    days: int = 7
    environment: str = "production"


class StatOut(Schema):
    company_id: str
    company_name: str
    interface: str
    interface_name: str
    batches: int
    received: int
    accepted: int
    duplicates: int
    rejected: int
    last_received_at: datetime | None
    lag_avg_seconds: float | None
    lag_max_seconds: int


class RejectOut(Schema):
    interface: str
    field: str
    code: str
    count: int


def _company_filter(scope: selectors.ReadScope, company: str | None) -> Any:
    if not company:
        return None
    return selectors.company_for_scope(scope=scope, supervision_company_id=company)


@router.get("/stats", response=list[StatOut], auth=read_auth, summary="Upload statistics")
def stats(request: HttpRequest, query: Query[StatsQuery]) -> list[selectors.StatRow]:
    """Per company and interface over the last `days` days: batches, records received / accepted
    / duplicate / rejected, last receipt, lag between event time and receipt."""
    scope = _scope(request)
    days = max(1, min(query.days, 92))
    return selectors.upload_stats(
        scope=scope, days=days, company=_company_filter(scope, query.company), environment=query.environment
    )


@router.get("/rejects", response=list[RejectOut], auth=read_auth, summary="Rejections by rule")
def rejects(request: HttpRequest, query: Query[StatsQuery]) -> list[selectors.RejectRow]:
    scope = _scope(request)
    days = max(1, min(query.days, 92))
    return selectors.reject_stats(
        scope=scope, days=days, company=_company_filter(scope, query.company), environment=query.environment
    )


class BaseItemOut(Schema):
    key: str
    flag: int
    update_time: datetime
    received_at: datetime
    record: dict[str, Any]


@router.get(
    "/companies/{company_id}/{kind}",
    response=list[BaseItemOut],
    auth=read_auth,
    summary="Current base information (vehicles or drivers)",
)
@paginate(page_size=100, max_page_size=1000)
def base_information(
    request: HttpRequest, company_id: str, kind: str, q: str = ""
) -> MappedQuerySet[Any, selectors.BaseItem]:
    """`kind` is `vehicles` or `drivers`, by key. `q` filters vehicles by plate prefix and finds a
    driver by the full licence number (stored only as a keyed hash, so no prefix search); ID
    numbers, phones, names and addresses in the answer are masked. Pages of 100 (`page`, or
    `limit` up to 1000 and `offset`): `{count, page, pages, items}`."""
    scope = _staff_scope(request)
    if kind not in selectors.BASE_KINDS:
        raise NotFound(ExchangeErrorCode.NOT_FOUND, "kind must be vehicles or drivers")
    company = selectors.company_for_scope(scope=scope, supervision_company_id=company_id)
    return selectors.base_current(scope=scope, company=company, kind=kind, q=q)


class StoryEventOut(Schema):
    interface: str
    name: str
    event_time: datetime
    received_at: datetime
    record: dict[str, Any]


class StoryPositionOut(Schema):
    time: datetime
    longitude: int
    latitude: int
    speed: int | None
    biz_status: int | None


class OrderStoryOut(Schema):
    order_id: str
    company_id: str
    status: str
    vehicle_no: str
    events: list[StoryEventOut]
    positions: list[StoryPositionOut]


@router.get(
    "/orders/{company_id}/{order_id}", response=OrderStoryOut, auth=read_auth, summary="An order's story"
)
def order(request: HttpRequest, company_id: str, order_id: str) -> selectors.OrderStory:
    """Create -> match -> depart -> arrive -> pay (or cancel), ratings, and the vehicle's positions
    between departure and arrival."""
    scope = _staff_scope(request)
    company = selectors.company_for_scope(scope=scope, supervision_company_id=company_id)
    return selectors.order_story(scope=scope, company=company, order_id=order_id)
