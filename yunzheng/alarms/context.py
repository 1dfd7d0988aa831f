"""The engine's questions to the registries, answered from data prefetched once per batch.

Reads the supervision app's licence history (``LicenceInterval``: the state of each licence over
time, kept by the registry syncs) and operating cities (``CompanyCityLicence``) - read-only; the
registries remain the only writers. Prefetching per batch keeps the engine O(1) per record: one
query per batch for the identifiers the batch names, one for the company's cities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from yunzheng.supervision.models import CompanyCityLicence, LicenceInterval
from yunzheng.supervision.regions import Bounds, bounds_of

_BOUNDS: dict[int, Bounds | None] = {}


def city_bounds(city: int) -> Bounds | None:
    found = _BOUNDS.get(city, False)
    if found is False:
        found = _BOUNDS[city] = bounds_of(city)
    return found  # type: ignore[return-value]


def _beijing_day(epoch: int) -> date:
    return datetime.fromtimestamp(epoch + 8 * 3600, UTC).date()


class RegistryContext:
    """Licence states and licensed cities for one batch (or one dry run)."""

    def __init__(self) -> None:
        self._intervals: dict[tuple[str, str], list[tuple[float, float, str]]] = {}
        self._cities: dict[int, list[tuple[int, date, date | None]]] = {}

    def prefetch_licences(self, kind: str, identifiers: Iterable[str]) -> None:
        wanted = {i for i in identifiers if i and (kind, i) not in self._intervals}
        if not wanted:
            return
        for ident in wanted:
            self._intervals[(kind, ident)] = []
        rows = LicenceInterval.objects.filter(kind=kind, identifier__in=wanted).values_list(
            "identifier", "starts_at", "ends_at", "state"
        )
        for ident, starts, ends, state in rows:
            self._intervals[(kind, ident)].append((starts.timestamp(), ends.timestamp(), state))

    def prefetch_cities(self, company_pks: Iterable[int]) -> None:
        wanted = {pk for pk in company_pks if pk not in self._cities}
        if not wanted:
            return
        found: dict[int, list[tuple[int, date, date | None]]] = defaultdict(list)
        for company_id, city, start, until in CompanyCityLicence.objects.filter(
            company_id__in=wanted
        ).values_list("company_id", "city_code", "valid_from", "valid_until"):
            if city.isdigit():
                found[company_id].append((int(city), start, until))
        for pk in wanted:
            self._cities[pk] = found.get(pk, [])

    # --- the engine's Context protocol ----------------------------------------------------

    def licence_state(self, kind: str, identifier: str, epoch: int) -> str:
        intervals = self._intervals.get((kind, identifier))
        if intervals is None:
            self.prefetch_licences(kind, [identifier])
            intervals = self._intervals[(kind, identifier)]
        for starts, ends, state in intervals:
            if starts <= epoch < ends:
                return state
        return "unlicensed"

    def city_licensed(self, company_pk: int, city: int, epoch: int) -> bool | None:
        cities = self._cities.get(company_pk)
        if cities is None:
            self.prefetch_cities([company_pk])
            cities = self._cities[company_pk]
        if not cities:
            return None
        day = _beijing_day(epoch)
        province = city // 10000 * 10000
        return any(
            (code in (city, province)) and start <= day and (until is None or day <= until)
            for code, start, until in cities
        )

    def city_bounds(self, city: int) -> Any | None:
        return city_bounds(city)
