"""PageNumbers: the API's page-number pagination (on ninja's @paginate)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from yunzheng.core.pagination import MappedQuerySet, PageNumbers


@pytest.mark.parametrize(
    ("asked", "page", "items"),
    [(1, 1, [0, 1, 2]), (2, 2, [3, 4, 5]), (3, 3, [6]), (9, 3, [6]), (0, 1, [0, 1, 2]), (-4, 1, [0, 1, 2])],
)
def test_pages_are_clamped_to_the_list(asked: int, page: int, items: list[int]) -> None:
    paginator = PageNumbers(page_size=3)
    result = paginator.paginate_queryset(list(range(7)), PageNumbers.Input(page=asked), request=None)  # type: ignore[arg-type]
    assert result == {"count": 7, "page": page, "pages": 3, "items": items}


def test_an_empty_list_is_one_empty_page() -> None:
    result = PageNumbers(page_size=3).paginate_queryset([], PageNumbers.Input(page=5), request=None)  # type: ignore[arg-type]
    assert result == {"count": 0, "page": 1, "pages": 1, "items": []}


@pytest.mark.parametrize(
    ("limit", "offset", "page", "pages", "items"),
    [
        (2, None, 1, 4, [0, 1]),  # a smaller page
        (50, None, 1, 2, [0, 1, 2, 3, 4]),  # capped at max_page_size
        (0, None, 1, 7, [0]),  # at least one item
        (2, 4, 3, 4, [4, 5]),  # an offset instead of a page number
        (3, 5, 2, 3, [5, 6]),  # an offset between page starts
        (None, -3, 1, 3, [0, 1, 2]),  # a negative offset is the start
    ],
)
def test_limit_and_offset_page_the_old_way(
    limit: int | None, offset: int | None, page: int, pages: int, items: list[int]
) -> None:
    paginator = PageNumbers(page_size=3, max_page_size=5)
    asked = PageNumbers.Input(page=1, limit=limit, offset=offset)
    result = paginator.paginate_queryset(list(range(7)), asked, request=None)  # type: ignore[arg-type]
    assert result == {"count": 7, "page": page, "pages": pages, "items": items}


@pytest.mark.django_db
def test_a_mapped_queryset_reads_and_maps_only_the_page() -> None:
    for n in range(5):
        Group.objects.create(name=f"page-{n}")
    batches: list[list[str]] = []

    def names(groups: list[Group]) -> list[str]:
        batches.append([g.name for g in groups])
        return [g.name.upper() for g in groups]

    mapped = MappedQuerySet(Group.objects.filter(name__startswith="page-").order_by("name"), names)
    result = PageNumbers(page_size=2).paginate_queryset(mapped, PageNumbers.Input(page=2), request=None)  # type: ignore[arg-type]
    assert result == {"count": 5, "page": 2, "pages": 3, "items": ["PAGE-2", "PAGE-3"]}
    assert batches == [["page-2", "page-3"]]  # one look-up, for the page's rows only
