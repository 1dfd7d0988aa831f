"""Settings of the conformance app and their defaults (the one place they are declared).

Campaigns (services.py):
    CONFORMANCE_REQUIRED_PASSES_SELF_SERVICE / _OFFICIAL  latest graded cycles of each test that
                                        must all pass (default 1)
    CONFORMANCE_OFFICIAL_MAX_CYCLES     cycles an official campaign may use before it fails
    CONFORMANCE_SPEC_DIRS               extra directories of interface spec versions
Grading thresholds (snapshotted into each campaign; defaults are grading.Thresholds'):
    CONFORMANCE_<THRESHOLD>             one per field of Thresholds, named in THRESHOLD_SETTINGS
"""

from __future__ import annotations

from yunzheng.conformance.grading import Thresholds
from yunzheng.core.appsettings import AppSettings

#: Thresholds field -> the setting that overrides its default.
THRESHOLD_SETTINGS: dict[str, str] = {
    "min_orders": "CONFORMANCE_MIN_ORDERS",
    "min_cancellations": "CONFORMANCE_MIN_CANCELLATIONS",
    "max_upload_lag_seconds": "CONFORMANCE_MAX_UPLOAD_LAG_SECONDS",
    "max_clock_skew_seconds": "CONFORMANCE_MAX_CLOCK_SKEW_SECONDS",
    "position_window_seconds": "CONFORMANCE_POSITION_WINDOW_SECONDS",
    "position_tolerance_meters": "CONFORMANCE_POSITION_TOLERANCE_METERS",
    "min_paid_km": "CONFORMANCE_MIN_PAID_KM",
    "min_trip_seconds": "CONFORMANCE_MIN_TRIP_SECONDS",
    "fare_per_km_min": "CONFORMANCE_FARE_PER_KM_MIN",
    "fare_per_km_max": "CONFORMANCE_FARE_PER_KM_MAX",
    "max_average_speed_kmh": "CONFORMANCE_MAX_AVERAGE_SPEED_KMH",
    "earliest_year": "CONFORMANCE_EARLIEST_YEAR",
    "examples": "CONFORMANCE_REPORT_EXAMPLES",
    "volume_basis": "CONFORMANCE_VOLUME_BASIS",
    "quality_modes": "CONFORMANCE_QUALITY_MODES",
}

_THRESHOLD_DEFAULTS = Thresholds().to_dict()

app_settings = AppSettings(
    CONFORMANCE_REQUIRED_PASSES_SELF_SERVICE=1,
    CONFORMANCE_REQUIRED_PASSES_OFFICIAL=1,
    CONFORMANCE_OFFICIAL_MAX_CYCLES=4,
    CONFORMANCE_SPEC_DIRS=[],
    **{name: _THRESHOLD_DEFAULTS[key] for key, name in THRESHOLD_SETTINGS.items()},
)
