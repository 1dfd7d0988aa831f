"""The built-in rule kinds: their parameters (validated per kind) and schedules.

Parameters are JSON in the rule; each kind has a pydantic model that validates them and fills
defaults, so a bad value is reported with its field and rule (never a 500) and the engine can
trust what it reads. ``WARN_BITS`` names the JT/T 808-2013 alarm flag bits (表 24) that the
ministry spec refers to for ``WarnStatus`` ("参考 JT/T 808 报警标志位").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yunzheng.alarms.error_codes import AlarmErrorCode as Code
from yunzheng.alarms.models import RuleKind
from yunzheng.core.errors import ErrorDetail, ValidationFailed

#: JT/T 808-2013 table 24: alarm flag bits of the location report (WarnStatus in the spec).
WARN_BITS: dict[int, Any] = {
    0: _("Emergency alarm (SOS)"),
    1: _("Overspeed alarm"),
    2: _("Fatigue driving alarm"),
    3: _("Danger warning"),
    4: _("GNSS module fault"),
    5: _("GNSS antenna disconnected"),
    6: _("GNSS antenna short-circuited"),
    7: _("Main power undervoltage"),
    8: _("Main power cut"),
    9: _("Display fault"),
    10: _("TTS module fault"),
    11: _("Camera fault"),
    12: _("Transport certificate IC card module fault"),
    13: _("Overspeed warning"),
    14: _("Fatigue driving warning"),
    18: _("Driving time of the day exceeded"),
    19: _("Parking overtime"),
    20: _("Entering or leaving an area"),
    21: _("Entering or leaving a route"),
    22: _("Route section driving time too short or too long"),
    23: _("Route deviation"),
    24: _("Vehicle VSS fault"),
    25: _("Abnormal fuel level"),
    26: _("Vehicle stolen"),
    27: _("Illegal ignition"),
    28: _("Illegal displacement"),
    29: _("Collision warning"),
    30: _("Rollover warning"),
    31: _("Illegal door opening"),
}
SOS_BIT = 0


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _both_parties() -> list[Literal["driver", "vehicle"]]:
    return ["driver", "vehicle"]


class UnlicensedOrderParams(_Params):
    check: list[Literal["driver", "vehicle"]] = Field(default_factory=_both_parties, min_length=1)


class OutsideLicensedCitiesParams(_Params):
    #: A company without any operating-licence record: alarm (True) or assume the registry is incomplete.
    alarm_without_any_licence: bool = False


class OutOfCityParams(_Params):
    minutes: int = Field(30, ge=1, le=24 * 60)


class ContinuousDrivingParams(_Params):
    hours: float = Field(4.0, gt=0, le=24)
    break_minutes: int = Field(20, ge=1, le=24 * 60)
    moving_speed_kmh: int = Field(5, ge=0, le=60)


class WarnStatusParams(_Params):
    bits: list[int] = Field(default_factory=lambda: [SOS_BIT], min_length=1)
    #: False keeps the alarm open after the bit clears until staff close it (the default for SOS).
    auto_close: bool = True

    @field_validator("bits")
    @classmethod
    def _known_bits(cls, bits: list[int]) -> list[int]:
        unknown = sorted(set(bits) - set(WARN_BITS))
        if unknown:
            raise ValueError(f"bits {unknown} are not alarm bits of JT/T 808 (known: {sorted(WARN_BITS)})")
        return sorted(set(bits))


class FareBandParams(_Params):
    per_km_min: float | None = Field(None, ge=0)
    per_km_max: float | None = Field(None, gt=0)
    per_minute_min: float | None = Field(None, ge=0)
    per_minute_max: float | None = Field(None, gt=0)
    min_km: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _some_bound(self) -> FareBandParams:
        bounds = (self.per_km_min, self.per_km_max, self.per_minute_min, self.per_minute_max)
        if all(b is None for b in bounds):
            raise ValueError("give at least one bound (per_km_min/max, per_minute_min/max)")
        if self.per_km_min is not None and self.per_km_max is not None and self.per_km_min > self.per_km_max:
            raise ValueError("per_km_min is above per_km_max")
        if (
            self.per_minute_min is not None
            and self.per_minute_max is not None
            and self.per_minute_min > self.per_minute_max
        ):
            raise ValueError("per_minute_min is above per_minute_max")
        return self


class StaleFeedParams(_Params):
    minutes: int = Field(10, ge=1, le=24 * 60)
    level: Literal["vehicle", "platform"] = "vehicle"


class ClusteringParams(_Params):
    cell_m: int = Field(300, ge=50, le=5000)
    vehicles: int = Field(20, ge=2, le=10_000)
    window_minutes: int = Field(5, ge=1, le=120)


PARAMS: dict[str, type[_Params]] = {
    RuleKind.UNLICENSED_ORDER: UnlicensedOrderParams,
    RuleKind.OUTSIDE_LICENSED_CITIES: OutsideLicensedCitiesParams,
    RuleKind.OUT_OF_CITY: OutOfCityParams,
    RuleKind.CONTINUOUS_DRIVING: ContinuousDrivingParams,
    RuleKind.WARN_STATUS: WarnStatusParams,
    RuleKind.FARE_BAND: FareBandParams,
    RuleKind.STALE_FEED: StaleFeedParams,
    RuleKind.CLUSTERING: ClusteringParams,
}

#: Kinds evaluated by the periodic tick (over the engine state), not per record.
PERIODIC_KINDS = frozenset({RuleKind.STALE_FEED, RuleKind.CLUSTERING})


class Schedule(BaseModel):
    """When a rule is active, Beijing time: ISO weekdays (1 = Monday) and hours [from, to)."""

    model_config = ConfigDict(extra="forbid")
    days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7], min_length=1)
    hours: list[tuple[int, int]] = Field(default_factory=lambda: [(0, 24)], min_length=1)

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[int]) -> list[int]:
        if any(d < 1 or d > 7 for d in days):
            raise ValueError("days are ISO weekdays 1 (Monday) to 7 (Sunday)")
        return sorted(set(days))

    @field_validator("hours")
    @classmethod
    def _hours(cls, hours: list[tuple[int, int]]) -> list[tuple[int, int]]:
        for start, end in hours:
            if not 0 <= start < end <= 24:
                raise ValueError("each hours range is [from, to) with 0 <= from < to <= 24")
        return hours


@dataclass(frozen=True)
class CompiledSchedule:
    """O(1) check: a 7x24 bit table; ``always`` skips the check entirely."""

    always: bool
    table: frozenset[int]  # weekday(0-6) * 24 + hour

    def active(self, epoch: int) -> bool:
        if self.always:
            return True
        local = epoch + 8 * 3600
        weekday = (local // 86400 + 3) % 7  # 1970-01-01 was a Thursday
        return weekday * 24 + (local // 3600) % 24 in self.table


def compile_schedule(schedule: Schedule) -> CompiledSchedule:
    table = frozenset(
        (day - 1) * 24 + hour
        for day in schedule.days
        for start, end in schedule.hours
        for hour in range(start, end)
    )
    return CompiledSchedule(always=len(table) == 7 * 24, table=table)


def _details(prefix: str, exc: ValidationError, code: str) -> list[ErrorDetail]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        out.append(
            ErrorDetail(
                field=f"{prefix}.{where}" if where else prefix,
                code=code,
                message=str(err.get("msg", "invalid")),
            )
        )
    return out


def validate_params(kind: str, params: Any) -> dict[str, Any]:
    """The parameters with defaults filled in; ValidationFailed naming each bad field."""
    model = PARAMS.get(kind)
    if model is None:
        raise ValidationFailed.single(
            field="kind", code=Code.KIND_UNKNOWN, message=_("Unknown rule kind."), kind=kind
        )
    try:
        return model.model_validate(params or {}).model_dump(mode="json")
    except ValidationError as exc:
        raise ValidationFailed(
            Code.PARAMS_INVALID,
            _("The rule's parameters are invalid."),
            details=_details("params", exc, Code.PARAMS_INVALID),
        ) from exc


def validate_schedule(schedule: Any) -> dict[str, Any]:
    try:
        return Schedule.model_validate(schedule or {}).model_dump(mode="json")
    except ValidationError as exc:
        raise ValidationFailed(
            Code.SCHEDULE_INVALID,
            _("The rule's schedule is invalid."),
            details=_details("schedule", exc, Code.SCHEDULE_INVALID),
        ) from exc


def default_params(kind: str) -> dict[str, Any]:
    if kind == RuleKind.FARE_BAND:
        return {
            "per_km_min": 1.0,
            "per_km_max": 8.0,
            "per_minute_min": None,
            "per_minute_max": 5.0,
            "min_km": 1.0,
        }
    return PARAMS[kind]().model_dump(mode="json")
