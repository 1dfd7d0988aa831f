"""The API's page-number pagination, on django-ninja's ``@paginate``.

    @router.get("/cases", response=list[CaseOut])
    @paginate(PageNumbers, page_size=20)
    def cases(request): return queryset

answers ``{"count", "page", "pages", "items"}`` for ``?page=N`` (from 1). A page past the last
answers the last one and a page below 1 the first: a list a client pages through changes under it,
so a stale page number is not an error.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from ninja.pagination import PaginationBase


class PageNumbers(PaginationBase):
    class Input(Schema):
        page: int = 1

    class Output(Schema):
        count: int
        page: int
        pages: int
        items: list[Any]

    def __init__(self, *, page_size: int, **kwargs: Any) -> None:
        self.page_size = page_size
        super().__init__(**kwargs)

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Any, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        size = self.page_size
        count = self._items_count(queryset)
        pages = max(1, (count + size - 1) // size)
        page = min(max(pagination.page, 1), pages)
        return {
            "count": count,
            "page": page,
            "pages": pages,
            "items": queryset[(page - 1) * size : page * size],
        }
