"""Forms of the staff registry pages: they validate input; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunzheng.core.regions import Region, RegionChoiceField, cities
from yunzheng.licensing.models import OperatingLicence
from yunzheng.practitioners.models import CreditGrade, VerificationRequest


class DateInput(forms.DateInput):
    input_type = "date"


def _reason(label: Any = None, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        max_length=500,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=40, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[])

    def __init__(self, *args: object, statuses: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["status"].choices = [("", _("All")), *statuses]  # type: ignore[attr-defined]


class CertificateDecisionForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("suspended", pgettext_lazy("registry decision", "Suspend")),
            ("revoked", pgettext_lazy("registry decision", "Revoke")),
            ("valid", pgettext_lazy("registry decision", "Reinstate after a suspension")),
        ],
    )
    reason = _reason()


class CreditResultForm(forms.Form):
    cycle_year = forms.IntegerField(label=_("Assessment cycle (year)"), min_value=2000, max_value=2100)
    grade = forms.ChoiceField(label=_("Grade"), choices=CreditGrade.choices)
    assessed_on = forms.DateField(label=_("Assessed on"), widget=DateInput)
    authority = forms.CharField(label=_("Assessing authority"), max_length=100)


class VehicleDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("suspend", pgettext_lazy("registry decision", "Suspend")),
            ("reinstate", pgettext_lazy("registry decision", "Reinstate after a suspension")),
            ("cancel", pgettext_lazy("registry decision", "Cancel")),
        ],
    )
    reason = _reason()


class InspectionForm(forms.Form):
    inspected_on = forms.DateField(label=_("Inspected on"), widget=DateInput)
    result = forms.ChoiceField(
        label=pgettext_lazy("inspection", "Result"),
        choices=[
            ("passed", pgettext_lazy("inspection", "Passed")),
            ("failed", pgettext_lazy("inspection", "Failed (the certificate is suspended)")),
        ],
    )
    valid_until = forms.DateField(label=_("New end of validity (optional)"), required=False, widget=DateInput)


class RemedyForm(forms.Form):
    note = _reason(_("How it was remedied"))


class LicenceIssueForm(forms.Form):
    credit_code = forms.CharField(label=_("Company's unified social credit code"), max_length=18)
    kind = forms.ChoiceField(label=_("Kind"), choices=OperatingLicence.Kind.choices)
    number = forms.CharField(
        label=_("Licence number (empty: assign the next one)"), max_length=40, required=False
    )
    scope = forms.CharField(label=_("Business scope"), max_length=200)
    area = forms.CharField(label=_("Operating area"), max_length=200)
    city_code = RegionChoiceField(label=_("City"), regions=[], blank=_("Choose a city"))
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput)

    def __init__(self, *args: Any, region_prefix: str, **kwargs: Any) -> None:
        """The cities of the staff member's region (`StaffScope.region_prefix`), from the list."""
        super().__init__(*args, **kwargs)
        cast(RegionChoiceField, self.fields["city_code"]).set_regions(
            cities(region_prefix), blank=_("Choose a city")
        )


class LicenceChangeForm(forms.Form):
    scope = forms.CharField(label=_("Business scope"), max_length=200)
    area = forms.CharField(label=_("Operating area"), max_length=200)
    reason = _reason()


class LicenceRenewForm(forms.Form):
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput)
    reason = _reason(required=False)


class LicenceDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("suspend", pgettext_lazy("registry decision", "Suspend")),
            ("reinstate", pgettext_lazy("registry decision", "Reinstate after a suspension")),
            ("revoke", pgettext_lazy("registry decision", "Revoke")),
            ("cancel", pgettext_lazy("registry decision", "Cancel")),
        ],
    )
    reason = _reason()


class VerificationAnswerForm(forms.Form):
    answer = forms.ChoiceField(label=_("Answer"), choices=VerificationRequest.Answer.choices)
    note = _reason(_("Note (required when the registry stays unchanged)"), required=False)


class CredentialIssueForm(forms.Form):
    """A provincial system's registry-feed credential: its name and the region it feeds, chosen
    from the GB/T 2260 list of the staff member's region (never a typed code)."""

    name = forms.CharField(label=_("System"), max_length=100)
    region_code = RegionChoiceField(
        label=_("Region"),
        regions=[],
        error_messages={
            "invalid_choice": _("Choose a region of your own from the list."),
            "required": _("Choose a region."),
        },
    )

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(RegionChoiceField, self.fields["region_code"]).set_regions(regions, blank=_("Choose a region"))


class CredentialRevokeForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, revoke this credential; the system's token stops working"))
