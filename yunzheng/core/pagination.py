"""The API's page-number pagination, on django-ninja's ``@paginate``.

    @router.get("/cases", response=list[CaseOut])
    @paginate(page_size=20)
    def cases(request, query: Query[CaseQuery]): return queryset

answers ``{"count", "page", "pages", "items"}`` for ``?page=N`` (from 1). A page past the last
answers the last one and a page below 1 the first: a list a client pages through changes under it,
so a stale page number is not an error.

``?limit=`` asks for a smaller (or, up to the operation's ``max_page_size``, larger) page;
``?offset=`` starts the page at that item instead of at a page number, for the clients of the lists
that paged by limit and offset before they moved onto ``@paginate`` (exchange base information,
supervision non-compliant orders). Out-of-range values are clamped, never an error.

An operation whose rows need a batch look-up per page (names from another table, decrypted and
masked personal data) returns ``MappedQuerySet(queryset, rows)``: only the page's slice is read and
``rows`` turns it into answer rows in one go.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Schema
from ninja.pagination import PaginationBase
from ninja.pagination import paginate as ninja_paginate

M = TypeVar("M", bound=Model)
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


def paginate(*, page_size: int, max_page_size: int | None = None) -> Callable[[F], F]:
    """ninja's ``@paginate(PageNumbers, ...)`` for an operation in a module with postponed
    annotations: ninja reads the parameters of its wrapper in its own module, where names such as
    ``date`` or the operation's query schema are unknown, so they are resolved here first."""

    def decorate(operation: F) -> F:
        operation.__annotations__ = typing.get_type_hints(operation, include_extras=True)
        return typing.cast(
            F, ninja_paginate(PageNumbers, page_size=page_size, max_page_size=max_page_size)(operation)
        )

    return decorate


class MappedQuerySet(Generic[M, R]):
    """A queryset read a slice at a time, each slice turned into rows by ``rows`` (one call per
    slice, so a page's look-ups are batched)."""

    def __init__(self, queryset: QuerySet[M], rows: Callable[[list[M]], list[R]]) -> None:
        self.queryset = queryset
        self.rows = rows

    def all(self) -> MappedQuerySet[M, R]:  # ninja counts through ``.all().count()``
        return self

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[R]:
        return self.rows(list(self.queryset[index]))

    def __iter__(self) -> Iterator[R]:
        return iter(self.rows(list(self.queryset)))


class PageNumbers(PaginationBase):
    class Input(Schema):
        page: int = 1
        limit: int | None = None
        offset: int | None = None

    class Output(Schema):
        count: int
        page: int
        pages: int
        items: list[Any]

    def __init__(self, *, page_size: int, max_page_size: int | None = None, **kwargs: Any) -> None:
        self.page_size = page_size
        self.max_page_size = max(page_size, max_page_size or page_size)
        super().__init__(**kwargs)

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Any, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        size = (
            self.page_size if pagination.limit is None else min(max(pagination.limit, 1), self.max_page_size)
        )
        count = self._items_count(queryset)
        pages = max(1, (count + size - 1) // size)
        if pagination.offset is not None:
            start = max(pagination.offset, 0)
            page = min(start // size + 1, pages)
        else:
            page = min(max(pagination.page, 1), pages)
            start = (page - 1) * size
        return {"count": count, "page": page, "pages": pages, "items": queryset[start : start + size]}
