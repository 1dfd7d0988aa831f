"""PageNumbers: the API's page-number pagination (on ninja's @paginate)."""

from __future__ import annotations

import pytest

from yunzheng.core.pagination import PageNumbers


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
