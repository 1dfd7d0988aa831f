"""Reader-language texts of reports: check names and explanations, example reasons, fix hints.

Reports store codes and parameters (``{"reason": "too_far", "params": {...}}``,
``{"code": "halfwidth", "params": {...}}``); these functions render them with gettext, so one
report reads in Chinese or English and the catalogue holds every sentence once.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from yunzheng.exchange.spec import ErrorCode

CHECK_TITLES = {
    "volume": gettext_lazy("Volume"),
    "order_sequence": gettext_lazy("Order events in legal order"),
    "ids_consistent": gettext_lazy("Consistent ids, vehicle, driver and times"),
    "positions_agree": gettext_lazy("Departure and arrival agree with positions"),
    "fare_plausible": gettext_lazy("Plausible fares"),
    "zero_duration": gettext_lazy("No zero-duration trips"),
    "sub_kilometre_paid": gettext_lazy("No paid trips under a kilometre"),
    "epoch_timestamps": gettext_lazy("No 1970 timestamps"),
    "swapped_lat_lon": gettext_lazy("No swapped longitude/latitude"),
    "unknown_driver": gettext_lazy("Drivers exist in the base data"),
    "unknown_vehicle": gettext_lazy("Vehicles exist in the base data"),
    "upload_lag": gettext_lazy("Upload lag"),
}

CHECK_EXPLANATIONS = {
    "volume": gettext_lazy(
        "At least %(min_orders)s %(volume_basis_label)s and %(min_cancellations)s cancelled orders, "
        "cancelled by passengers, drivers and the platform (the published test rule; counting paid "
        "orders is yunzheng's default reading)."
    ),
    "order_sequence": gettext_lazy(
        "Every order is created before it is matched, matched before departure, departs before it arrives "
        "and arrives before payment; a cancelled order is not served."
    ),
    "ids_consistent": gettext_lazy(
        "Match, departure and payment name the same driver and vehicle; payment repeats the departure, "
        "arrival and match times, places, mileage and duration."
    ),
    "positions_agree": gettext_lazy(
        "The vehicle's position stream has a point within %(position_window_seconds)s s and "
        "%(position_tolerance_meters)s m of each departure and arrival."
    ),
    "fare_plausible": gettext_lazy(
        "Fare per kilometre between %(fare_per_km_min)s and %(fare_per_km_max)s yuan, average speed at most "
        "%(max_average_speed_kmh)s km/h."
    ),
    "zero_duration": gettext_lazy(
        "Paid trips last at least %(min_trip_seconds)s s and report a driving time."
    ),
    "sub_kilometre_paid": gettext_lazy("No fare is charged for a trip shorter than %(min_paid_km)s km."),
    "epoch_timestamps": gettext_lazy("No time before %(earliest_year)s (a zero unix time shows as 1970)."),
    "swapped_lat_lon": gettext_lazy(
        "No record sends the latitude as longitude and the longitude as latitude."
    ),
    "unknown_driver": gettext_lazy("Every driver of an order was uploaded in baseInfoDriver in this cycle."),
    "unknown_vehicle": gettext_lazy(
        "Every vehicle of an order was uploaded in baseInfoVehicle in this cycle."
    ),
    "upload_lag": gettext_lazy(
        "Orders, operations and positions arrive within %(max_upload_lag_seconds)s s of the event "
        "(and never more than %(max_clock_skew_seconds)s s early)."
    ),
}

CHECK_SOURCE_LABELS = {
    "documented": gettext_lazy("Documented test rule"),
    "spec": gettext_lazy("Interface specification"),
    "yunzheng": gettext_lazy("yunzheng's own quality check (not statutory)"),
}

VOLUME_BASIS_LABELS = {
    "paid": gettext_lazy("completed and paid orders"),
    "all": gettext_lazy("orders of any outcome"),
}

STATUS_LABELS = {
    "off": gettext_lazy("Switched off for this campaign"),
    "pass": pgettext_lazy("test result", "Passed"),
    "fail": pgettext_lazy("test result", "Failed"),
    "not_received": gettext_lazy("Not received yet"),
    "not_graded": gettext_lazy("Not graded"),
    "open": gettext_lazy("Open for uploads"),
    "passed": pgettext_lazy("test result", "Passed"),
    "failed": pgettext_lazy("test result", "Failed"),
    "aborted": gettext_lazy("Aborted"),
}

PARTIES = {
    "1": gettext_lazy("passenger"),
    "2": gettext_lazy("driver"),
    "3": gettext_lazy("platform"),
}
EVENTS = {"departure": gettext_lazy("departure"), "arrival": gettext_lazy("arrival")}

REASONS = {
    "too_few_orders": gettext_lazy("%(count)s completed orders, at least %(minimum)s required"),
    "too_few_cancellations": gettext_lazy("%(count)s cancelled orders, at least %(minimum)s required"),
    "missing_party": gettext_lazy("No cancellation by: %(parties)s"),
    "missing_create": gettext_lazy("Order %(order_id)s: %(interface)s without orderCreate"),
    "match_before_create": gettext_lazy(
        "Order %(order_id)s: matched at %(time)s, before it was created (%(before)s)"
    ),
    "cancel_before_create": gettext_lazy(
        "Order %(order_id)s: cancelled at %(time)s, before it was created (%(before)s)"
    ),
    "cancelled_and_served": gettext_lazy("Order %(order_id)s: cancelled, yet %(interface)s was uploaded"),
    "depart_without_match": gettext_lazy("Order %(order_id)s: departure without a match"),
    "depart_before_match": gettext_lazy(
        "Order %(order_id)s: departed at %(time)s, before the match (%(before)s)"
    ),
    "arrive_without_depart": gettext_lazy("Order %(order_id)s: arrival without a departure"),
    "arrive_before_depart": gettext_lazy(
        "Order %(order_id)s: arrived at %(time)s, before departure (%(before)s)"
    ),
    "pay_without_arrive": gettext_lazy("Order %(order_id)s: payment without an arrival"),
    "pay_before_arrive": gettext_lazy("Order %(order_id)s: paid at %(time)s, before arrival (%(before)s)"),
    "driver_differs": gettext_lazy(
        "Order %(order_id)s: %(interface)s names driver %(got)s, expected %(expected)s"
    ),
    "vehicle_differs": gettext_lazy(
        "Order %(order_id)s: %(interface)s names vehicle %(got)s, expected %(expected)s"
    ),
    "value_differs": gettext_lazy(
        "Order %(order_id)s: operatePay %(field)s is %(got)s, expected %(expected)s"
    ),
    "no_position": gettext_lazy(
        "Order %(order_id)s: no position of %(vehicle)s within %(window)s s of the %(event)s at %(time)s"
    ),
    "too_far": gettext_lazy(
        "Order %(order_id)s: the %(event)s at %(time)s is %(meters)s m from the position of %(vehicle)s "
        "(%(seconds)s s apart)"
    ),
    "fare_per_km": gettext_lazy("Order %(order_id)s: %(fare)s yuan for %(km)s km (%(per_km)s yuan/km)"),
    "speed": gettext_lazy("Order %(order_id)s: %(km)s km in %(seconds)s s (%(kmh)s km/h)"),
    "zero_duration": gettext_lazy("Order %(order_id)s: trip of %(seconds)s s, driving time %(drive_time)s s"),
    "sub_kilometre": gettext_lazy("Order %(order_id)s: %(fare)s yuan charged for %(km)s km"),
    "before_year": gettext_lazy("%(interface)s %(key)s: %(field)s = %(value)s"),
    "swapped": gettext_lazy("%(interface)s %(key)s: longitude %(lon)s, latitude %(lat)s look swapped"),
    "unknown_driver": gettext_lazy("Order %(order_id)s: driver %(licence)s is not in baseInfoDriver"),
    "unknown_vehicle": gettext_lazy("Order %(order_id)s: vehicle %(vehicle)s is not in baseInfoVehicle"),
    "late": gettext_lazy("%(interface)s %(key)s arrived %(seconds)s s after the event"),
    "future": gettext_lazy("%(interface)s %(key)s arrived %(seconds)s s before the event (clock error?)"),
}

HINTS = {
    "required": gettext_lazy("Send %(field)s (%(name_zh)s): it is required and must not be empty."),
    "type_string": gettext_lazy("Send %(field)s as a JSON string (in quotes)."),
    "type_integer": gettext_lazy(
        "Send %(field)s as a JSON integer without quotes or decimals, e.g. %(example)s."
    ),
    "type_number": gettext_lazy("Send %(field)s as a JSON number without quotes, e.g. 12.5."),
    "max_length": gettext_lazy("Shorten %(field)s to at most %(limit)s %(unit)s (it has %(length)s)."),
    "fixed_length": gettext_lazy("%(field)s needs exactly %(required)s %(unit)s (it has %(length)s)."),
    "number_digits": gettext_lazy(
        "%(field)s allows at most %(digits)s digits before the decimal point and %(places)s after it."
    ),
    "plate_format": gettext_lazy(
        "Write %(field)s as province abbreviation + capital letter + 5 or 6 capital letters or digits, "
        "half-width, no spaces, e.g. %(example)s."
    ),
    "date": gettext_lazy("Send %(field)s as YYYYMMDD, a real calendar date, e.g. %(example)s."),
    "datetime": gettext_lazy("Send %(field)s as YYYYMMDDhhmmss, a real date and time, e.g. %(example)s."),
    "time_too_early": gettext_lazy(
        "%(field)s is before 2000: set the device clock (a zero unix time shows as 1970)."
    ),
    "time_in_future": gettext_lazy(
        "%(field)s is more than a day ahead: check the clock and send Beijing time (UTC+8)."
    ),
    "datetime_unix": gettext_lazy(
        "Send %(field)s as YYYYMMDDhhmmss (e.g. %(example)s) or as unix seconds (10 digits), "
        "not milliseconds."
    ),
    "yearmonth": gettext_lazy("Send %(field)s as YYYYMM, a real month, e.g. %(example)s."),
    "time_hhmm": gettext_lazy("Send %(field)s as HHmm, four half-width digits 0000-2359, e.g. %(example)s."),
    "enum": gettext_lazy("%(field)s must be one of: %(codes)s."),
    "region_code": gettext_lazy(
        "Send %(field)s as an existing 6-digit GB/T 2260 administrative division code, e.g. %(example)s."
    ),
    "coordinate_zero": gettext_lazy("%(field)s is 0: send the real position (degrees x 1,000,000)."),
    "coordinate_swapped": gettext_lazy(
        "%(field)s holds a value of the other axis: longitude and latitude look swapped."
    ),
    "coordinate_degrees": gettext_lazy(
        "Coordinates are integers in millionths of a degree: send %(suggested)s, not degrees."
    ),
    "coordinate_range": gettext_lazy(
        "%(field)s must lie within China: %(min)s to %(max)s (degrees x 1,000,000)."
    ),
    "range": gettext_lazy("%(field)s must be between %(min)s and %(max)s."),
    "range_min": gettext_lazy("%(field)s must not be below %(min)s."),
    "finite": gettext_lazy("%(field)s must be a finite number."),
    "unknown_field": gettext_lazy("Remove %(field)s: it is not a field of this interface."),
    "unknown_field_suggestion": gettext_lazy(
        "%(field)s is not a field of this interface; did you mean %(suggestion)s? Names are case-sensitive."
    ),
    "duplicate_field": gettext_lazy("Send only %(canonical)s, not also %(field)s."),
    "record_type": gettext_lazy("Each record must be a JSON object (a protobuf message)."),
    "company_mismatch": gettext_lazy("Use your own CompanyId %(company_id)s in every record."),
    "rule": gettext_lazy("See the rule: %(rule)s."),
    "halfwidth_char": gettext_lazy(
        "position %(position)s: use half-width %(replacement)s instead of %(char)s"
    ),
    "halfwidth_position": gettext_lazy("position %(position)s: use half-width %(replacement)s"),
    "halfwidth_remove": gettext_lazy("position %(position)s: remove %(codepoint)s (not half-width ASCII)"),
    "halfwidth": gettext_lazy("Only half-width characters in %(field)s: %(chars)s."),
    "control_character": gettext_lazy(
        "Remove the control character %(codepoint)s at position %(position)s of %(field)s: "
        "text fields hold one line of printable text."
    ),
}

RULE_NAMES = {
    "record_type": gettext_lazy("Not a record object"),
    "unknown_field": gettext_lazy("Unknown field"),
    "duplicate_field": gettext_lazy("Field sent twice"),
    "required": gettext_lazy("Required field missing"),
    "type": gettext_lazy("Wrong type"),
    "max_length": gettext_lazy("Too long"),
    "fixed_length": gettext_lazy("Wrong length"),
    "halfwidth": gettext_lazy("Not half-width"),
    "control_character": gettext_lazy("Control character in text"),
    "plate_format": gettext_lazy("Not a plate number"),
    "date": gettext_lazy("Not a date YYYYMMDD"),
    "datetime": gettext_lazy("Not a date-time YYYYMMDDhhmmss"),
    "time_too_early": gettext_lazy("Time before 2000"),
    "time_in_future": gettext_lazy("Time more than a day ahead"),
    "yearmonth": gettext_lazy("Not a month YYYYMM"),
    "time_hhmm": gettext_lazy("Not a time HHmm"),
    "enum": gettext_lazy("Not a code of the code table"),
    "region_code": gettext_lazy("Not a region code"),
    "coordinate_range": gettext_lazy("Coordinate outside China"),
    "range": gettext_lazy("Out of range"),
    "company_mismatch": gettext_lazy("Another company's CompanyId"),
}

UNITS = {"characters": gettext_lazy("characters"), "digits": gettext_lazy("digits")}


def check_title(code: str) -> str:
    return str(CHECK_TITLES.get(code, code))


def check_explanation(code: str, thresholds: dict[str, Any]) -> str:
    text = CHECK_EXPLANATIONS.get(code)
    if text is None:
        return ""
    params = {**thresholds, "volume_basis_label": volume_basis_label(thresholds.get("volume_basis", "paid"))}
    try:
        return str(text) % params
    except (KeyError, TypeError, ValueError):
        return str(text)


def source_label(source: str) -> str:
    return str(CHECK_SOURCE_LABELS.get(source, source))


def volume_basis_label(basis: str) -> str:
    return str(VOLUME_BASIS_LABELS.get(basis, basis))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def rule_name(code: str) -> str:
    return str(RULE_NAMES.get(code, code))


def rule_description(code: str) -> str:
    """The spec engine's one-line description of a rule (English; part of the interface docs)."""
    try:
        return ErrorCode(code).description
    except ValueError:
        return code


def _format(template: Any, params: dict[str, Any]) -> str:
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return f"{template}"


def example_text(example: dict[str, Any]) -> str:
    params = dict(example.get("params") or {})
    if "event" in params:
        params["event"] = str(EVENTS.get(params["event"], params["event"]))
    if "parties" in params:
        params["parties"] = "、".join(str(PARTIES.get(p, p)) for p in params["parties"])
    template = REASONS.get(str(example.get("reason")))
    if template is None:
        return str(example.get("reason"))
    return _format(template, params)


def hint_text(hint: dict[str, Any] | None) -> str:
    if not hint:
        return ""
    code = str(hint.get("code"))
    params = dict(hint.get("params") or {})
    if "unit" in params:
        params["unit"] = str(UNITS.get(params["unit"], params["unit"]))
    if code == "halfwidth":
        parts = []
        for ch in params.get("chars", []):
            if ch.get("replacement") and ch.get("char"):
                parts.append(_format(HINTS["halfwidth_char"], ch))
            elif ch.get("replacement"):
                parts.append(_format(HINTS["halfwidth_position"], ch))
            else:
                parts.append(_format(HINTS["halfwidth_remove"], ch))
        params["chars"] = "; ".join(parts)
    elif code == "enum":
        params["codes"] = ", ".join(f"{c} ({label})" for c, label in params.get("codes", []))
    elif code == "datetime" and params.get("unix_allowed"):
        code = "datetime_unix"
    elif code == "unknown_field" and params.get("suggestion"):
        code = "unknown_field_suggestion"
    elif code == "range" and params.get("max") is None:
        code = "range_min"
    template = HINTS.get(code)
    if template is None:
        return _("See the rule: %(rule)s.") % {"rule": code}
    return _format(template, params)
