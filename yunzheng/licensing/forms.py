"""Input of the licensing pages: each form parses what one page or action posts; the rules (which
values are allowed, what is required for which step) stay in the services, which answer with
DomainErrors. A form only refuses what cannot be parsed (a date, a number, a time), with the
same message and code a service would use (``core.forms.cleaned_data``).

Text fields are optional and unstripped: the service decides what a blank value means.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from yunzheng.core.clock import CHINA
from yunzheng.core.regions import RegionChoiceField, cities

_DATE_MESSAGE = _("Enter a date as YYYY-MM-DD.")
_NUMBER_MESSAGE = _("Enter a number.")


def _text() -> forms.CharField:
    return forms.CharField(required=False, strip=False)


def _date(*, required: bool = True) -> forms.DateField:
    return forms.DateField(
        required=required,
        input_formats=["%Y-%m-%d"],
        error_messages={"required": _DATE_MESSAGE, "invalid": _DATE_MESSAGE},
    )


def _number(*, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(
        required=required, error_messages={"required": _NUMBER_MESSAGE, "invalid": _NUMBER_MESSAGE}
    )


class LocalDateTimeField(forms.Field):
    """``YYYY-MM-DDTHH:MM`` (a datetime-local input), read as China time."""

    default_error_messages = {"invalid": _("Enter a time as YYYY-MM-DDTHH:MM.")}

    def to_python(self, value: Any) -> dt.datetime | None:
        raw = (value or "").strip()
        if not raw:
            return None
        try:
            return dt.datetime.fromisoformat(raw).replace(tzinfo=CHINA)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


# --- company side ---------------------------------------------------------------------------


def _city() -> RegionChoiceField:
    # Licensing names a municipality by its first city-level code (110100), as quotas do.
    return RegionChoiceField(label=_("City"), regions=cities(), blank=_("Choose a city"))


class ApplyForm(forms.Form):
    path = _text()
    city_code = _city()


class MaterialUploadForm(forms.Form):
    file = forms.FileField(
        required=True,
        allow_empty_file=True,  # an empty file is the service's to refuse
        error_messages={"required": _("Choose a file."), "invalid": _("Choose a file.")},
    )
    kind = _text()


class EvaluationForm(forms.Form):
    report = forms.FileField(
        required=True,
        allow_empty_file=True,
        error_messages={"required": _("Choose the report (PDF)."), "invalid": _("Choose the report (PDF).")},
    )
    kind = _text()
    agency = _text()
    report_number = _text()
    issued_on = _date()
    valid_until = _date(required=False)
    filing_number = _text()


class BookingForm(forms.Form):
    month = _date()
    company_id = _number()


# --- the application page's actions (views.APPLICATION_ACTIONS) ----------------------------


class ReasonForm(forms.Form):
    reason = _text()


class WorkLetterForm(forms.Form):
    letter_number = _text()
    letter_date = _date()


class MinistryReplyForm(forms.Form):
    reply_number = _text()
    reply_date = _date()


class CompanyInfoForm(forms.Form):
    platform_name = _text()
    app_name = _text()
    server_location = _text()


class AccountForm(forms.Form):
    account = _text()


class TestResultForm(forms.Form):
    issued_on = _date(required=False)
    document_number = _text()
    reason = _text()


class DepartmentReviewForm(forms.Form):
    recommendation = _text()
    comments = _text()


class DecisionForm(forms.Form):
    decision = _text()
    reason = _text()
    decision_number = _text()
    missing_reason = _text()


class GrantForm(forms.Form):
    scope = _text()
    area = _text()
    valid_years = _number(required=False)

    def clean_valid_years(self) -> int:
        years = self.cleaned_data.get("valid_years")
        return 4 if years is None else years


# --- staff side -----------------------------------------------------------------------------


class CityQuotaForm(forms.Form):
    """A staff member chooses one of the cities of their region (`region_prefix`)."""

    city_code = _city()
    accepting = _text()
    notice_number = _text()
    notice_title = _text()
    notice_date = _date(required=False)
    local_evaluations = _text()

    def __init__(self, *args: Any, region_prefix: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(RegionChoiceField, self.fields["city_code"]).set_regions(
            cities(region_prefix), blank=_("Choose a city")
        )

    def clean_accepting(self) -> bool:
        return self.cleaned_data.get("accepting") == "yes"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # "yes"/"no" sets whether the city requires local evaluations; anything else leaves it as is.
        data["local_evaluations_required"] = {"yes": True, "no": False}.get(data.pop("local_evaluations", ""))
        return data


class SlotMonthForm(forms.Form):
    month = _date()
    opens_at = LocalDateTimeField(required=False)
    capacity = _number(required=False)

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data.get("capacity")
        return 20 if capacity is None else capacity


class SlotExtraForm(forms.Form):
    slot_id = _number()
    extra = _number()
    reason = _text()


class ExpiriesForm(forms.Form):
    """``?days=``: 1-366, 60 when missing or not a number."""

    days = forms.IntegerField(required=False)

    def days_or_default(self) -> int:
        days = self.cleaned_data.get("days") if self.is_valid() else None
        return 60 if days is None else max(1, min(days, 366))
