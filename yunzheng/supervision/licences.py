"""Licence history: normalising identifiers and turning validity periods into state intervals.

Pure Python (no database), so the rules are easy to read and to test:

* A period is **in force** from ``valid_from`` 00:00 (Beijing) until the end of ``valid_until``,
  or until ``status_changed_at`` when it was suspended, cancelled or revoked before that.
* At a moment *t* an identifier is ``valid`` if any of its periods is in force. Otherwise the
  reason comes from the periods that had begun by *t*: revoked > cancelled > suspended (each from
  its ``status_changed_at``) > expired (past ``valid_until``). With no period begun it is
  ``unlicensed`` - never held one, or not yet.

:func:`intervals_for` evaluates that rule between consecutive boundaries (period starts, ends
and status changes) and merges equal neighbours, giving non-overlapping intervals per identifier
that the compliance query joins with a plain range predicate.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from stdnum.cn import ric

from yunzheng.core.clock import CHINA
from yunzheng.core.crypto import lookup_hash, mask_id_number
from yunzheng.exchange.spec.reference_data import PLATE_PROVINCES
from yunzheng.supervision.models import LicenceState, PeriodStatus

#: The end of the last interval of an identifier ("until further notice"): far enough, yet a
#: datetime every database and Python's time-zone arithmetic handle.
OPEN_END = datetime(9000, 1, 1, tzinfo=UTC)

_PRIORITY = {
    LicenceState.REVOKED: 4,
    LicenceState.CANCELLED: 3,
    LicenceState.SUSPENDED: 2,
    LicenceState.EXPIRED: 1,
}
_STOPPED = {
    PeriodStatus.SUSPENDED: LicenceState.SUSPENDED,
    PeriodStatus.CANCELLED: LicenceState.CANCELLED,
    PeriodStatus.REVOKED: LicenceState.REVOKED,
}

_BLANKS = re.compile(r"[\s·・.\-]+")
_DRIVER_ID = re.compile(r"[0-9A-Z]{6,32}")
_RESIDENT_ID = re.compile(r"\d{17}[\dX]")


def normalise_identifier(kind: str, value: str) -> str:
    """The form the exchange uses: upper case, no blanks (plates also without the middle dot)."""
    text = (value or "").strip().upper()
    text = text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})  # full-width -> ASCII
    return _BLANKS.sub("", text) if kind == "vehicle" else re.sub(r"\s+", "", text)


def licence_key(kind: str, value: str) -> str:
    """How the exchange stores the identifier: drivers' licence numbers as ``lookup_hash`` (the
    platform's keyed hash of personal identifiers), plates as they are."""
    return lookup_hash(value) if kind == "driver" else value


def licence_display(kind: str, value: str) -> str:
    """What a page may show of a normalised identifier."""
    return mask_id_number(value) if kind == "driver" else value


def identifier_problem(kind: str, value: str) -> str | None:
    """Why a normalised identifier cannot be right, or None. Drivers: 6-32 letters/digits, and an
    18-character resident ID number must pass its check character; vehicles: a mainland plate."""
    if kind == "driver":
        if not _DRIVER_ID.fullmatch(value):
            return "a driving-licence number has 6 to 32 letters and digits"
        if _RESIDENT_ID.fullmatch(value) and ric.calc_check_digit(value) != value[-1]:
            return "the check character of the ID number does not match"
        return None
    tail = value[2:]
    if not (
        len(value) in (7, 8)
        and value[0] in PLATE_PROVINCES
        and "A" <= value[1] <= "Z"
        and tail.isascii()
        and tail.isalnum()
    ):
        return "not a plate number (province abbreviation, capital letter, 5 or 6 letters/digits)"
    return None


@functools.lru_cache(maxsize=65536)
def day_start(day: date) -> datetime:
    """00:00 Beijing time of ``day``, as an aware datetime in UTC."""
    return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC)


@dataclass(frozen=True)
class PeriodFacts:
    """What the rule needs of a ``LicencePeriod``."""

    valid_from: date
    valid_until: date
    status: str
    status_changed_at: datetime | None

    @property
    def starts(self) -> datetime:
        return day_start(self.valid_from)

    @property
    def ends(self) -> datetime:
        return day_start(self.valid_until + timedelta(days=1))

    def state_at(self, t: datetime) -> str | None:
        """This period's verdict at ``t``: None before it began, else valid or why not."""
        if t < self.starts:
            return None
        stopped = _STOPPED.get(PeriodStatus(self.status))
        if stopped is not None and self.status_changed_at is not None and self.status_changed_at <= t:
            return stopped
        return LicenceState.VALID if t < self.ends else LicenceState.EXPIRED


@dataclass(frozen=True)
class Interval:
    state: str
    starts_at: datetime
    ends_at: datetime


def state_at(periods: Sequence[PeriodFacts], t: datetime) -> str:
    """The identifier's state at ``t`` (the rule in the module docstring)."""
    best: str | None = None
    for period in periods:
        verdict = period.state_at(t)
        if verdict == LicenceState.VALID:
            return LicenceState.VALID
        if verdict is not None and (
            best is None or _PRIORITY[LicenceState(verdict)] > _PRIORITY[LicenceState(best)]
        ):
            best = verdict
    return best or LicenceState.UNLICENSED


def _single(p: PeriodFacts) -> list[Interval]:
    """The common case, one period: valid until it ends or stops, then expired or stopped."""
    starts, ends = p.starts, p.ends
    stopped = _STOPPED.get(PeriodStatus(p.status))
    if stopped is None or p.status_changed_at is None:
        return [Interval(LicenceState.VALID, starts, ends), Interval(LicenceState.EXPIRED, ends, OPEN_END)]
    changed = p.status_changed_at
    if changed <= starts:
        return [Interval(stopped, starts, OPEN_END)]
    if changed < ends:
        return [Interval(LicenceState.VALID, starts, changed), Interval(stopped, changed, OPEN_END)]
    return [
        Interval(LicenceState.VALID, starts, ends),
        Interval(LicenceState.EXPIRED, ends, changed),
        Interval(stopped, changed, OPEN_END),
    ]


def intervals_for(periods: Iterable[PeriodFacts]) -> list[Interval]:
    """Non-overlapping state intervals of one identifier; nothing before its first period."""
    facts = list(periods)
    if not facts:
        return []
    if len(facts) == 1:
        return _single(facts[0])
    points: set[datetime] = set()
    for p in facts:
        points.add(p.starts)
        points.add(p.ends)
        if p.status_changed_at is not None and p.status != PeriodStatus.VALID:
            points.add(p.status_changed_at)
    bounds = sorted(points)
    out: list[Interval] = []
    for i, start in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else OPEN_END
        state = state_at(facts, start)
        if state == LicenceState.UNLICENSED:
            continue  # only possible before the first start; absence means unlicensed
        if out and out[-1].state == state and out[-1].ends_at == start:
            out[-1] = Interval(state, out[-1].starts_at, end)
        else:
            out.append(Interval(state, start, end))
    return out
