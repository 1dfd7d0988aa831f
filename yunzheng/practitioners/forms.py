"""HTML forms of the office: they parse and render; the rules live in services (errors come back
as DomainErrors and are placed on the fields they name)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from yunzheng.practitioners import catalogue
from yunzheng.practitioners.models import (
    CaseState,
    CaseType,
    CertificateCategory,
    CreditGrade,
    DeliveryMethod,
    MaterialKind,
    QualificationCertificate,
)


class AgreeForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read the business instructions and agree to them"),
        required=True,
        error_messages={"required": _("Read the business instructions and agree to them first.")},
    )


class CertificateChoiceForm(forms.Form):
    certificate = forms.IntegerField(widget=forms.HiddenInput)


class PersonalForm(forms.Form):
    """Personal information (name read-only, from the verified account) plus the service's fields."""

    name = forms.CharField(label=_("Name"), required=False, disabled=True)
    phone = forms.CharField(
        label=_("Mobile number"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=40)
    address = forms.CharField(label=_("Contact address"), max_length=120)

    def __init__(
        self,
        *args: Any,
        case_type: str,
        certificate: QualificationCertificate,
        years: list[int],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        kind = CaseType(case_type)
        if kind == CaseType.CREDIT_ASSESSMENT:
            self.fields["cycle_year"] = forms.TypedChoiceField(
                label=_("Assessment cycle"), choices=[(y, str(y)) for y in years], coerce=int
            )
            self.fields["service_company"] = forms.CharField(
                label=_("Service company (leave empty if you work on your own)"),
                max_length=200,
                required=False,
            )
        elif kind == CaseType.RENEWAL:
            self.fields["licence_class"] = _licence_class_field(required=True)
            self.fields["reason"] = forms.CharField(
                label=_("Reason for the renewal"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
            )
        elif kind == CaseType.REPLACEMENT:
            self.fields["licence_class"] = _licence_class_field(required=True)
            self.fields["replacement_reason"] = forms.ChoiceField(
                label=_("Reason"),
                choices=list(catalogue.REPLACEMENT_REASONS.items()),
                widget=forms.RadioSelect,
            )
        elif kind == CaseType.CHANGE_UNIT:
            self.fields["new_unit"] = forms.CharField(label=_("New service unit"), max_length=200)
            self.fields["unit_phone"] = forms.CharField(label=_("Phone of the new unit"), max_length=20)
            self.fields["reason"] = forms.CharField(
                label=_("Reason for the change"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
            )
        elif kind == CaseType.CHANGE_INFO:
            self.fields["update_name"] = forms.BooleanField(
                label=_("Show my verified name on the certificate"), required=False
            )
            self.fields["licence_class"] = _licence_class_field(required=False)
            self.fields["unit_phone"] = forms.CharField(
                label=_("Phone of the service unit"), max_length=20, required=False
            )
            self.fields["new_address"] = forms.CharField(
                label=_("New address"), max_length=120, required=False
            )
            self.fields["new_contact_name"] = forms.CharField(
                label=_("New contact person"), max_length=40, required=False
            )
            self.fields["new_contact_phone"] = forms.CharField(
                label=_("New contact phone"),
                max_length=20,
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "tel"}),
            )
            self.fields["reason"] = forms.CharField(
                label=_("Reason for the change"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
            )
        elif kind == CaseType.CANCELLATION:
            held = catalogue.valid_categories(certificate)
            self.fields["categories"] = forms.MultipleChoiceField(
                label=_("Categories to cancel"),
                choices=[(c, CertificateCategory(c).label) for c in held],
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields["reason"] = forms.CharField(
                label=_("Reason (optional)"),
                max_length=300,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        elif kind == CaseType.INFO_VERIFICATION:
            for name, label in catalogue.VERIFIABLE_FIELDS.items():
                widget = forms.DateInput(attrs={"type": "date"}) if name in catalogue.DATE_FIELDS else None
                self.fields[f"claimed_{name}"] = forms.CharField(
                    label=_("Correct value: %(field)s") % {"field": label},
                    max_length=200,
                    required=False,
                    widget=widget,
                )
            self.fields["description"] = forms.CharField(
                label=_("What is wrong"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
            )

    def detail_values(self) -> dict[str, Any]:
        personal = {"name", "phone", "contact_name", "address"}
        return {key: value for key, value in self.cleaned_data.items() if key not in personal}


def _licence_class_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Licence class (准驾车型)"),
        max_length=20,
        required=required,
        help_text=_("As on the driving licence, e.g. C1, B2 or A2D."),
    )


class DeliveryForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How to receive the new certificate"),
        choices=DeliveryMethod.choices,
        widget=forms.RadioSelect,
    )
    recipient = forms.CharField(label=_("Recipient"), max_length=40, required=False)
    phone = forms.CharField(label=_("Recipient's mobile number"), max_length=20, required=False)
    address = forms.CharField(label=_("Mailing address"), max_length=120, required=False)


class MaterialForm(forms.Form):
    # A plain FileField: the content is checked by core.uploads, never the name or declared type.
    file = forms.FileField(
        label=_("File"), widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the applicant sees it)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ApproveForm(forms.Form):
    grade = forms.ChoiceField(
        label=_("Credit grade for the cycle"), choices=[("", "—"), *CreditGrade.choices], required=False
    )


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("Handed over / tracking number"), max_length=200, required=False)


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer (the applicant sees it)"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, claimed: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in catalogue.VERIFIABLE_FIELDS.items():
            widget = forms.DateInput(attrs={"type": "date"}) if name in catalogue.DATE_FIELDS else None
            self.fields[f"correct_{name}"] = forms.CharField(
                label=_("Corrected value: %(field)s") % {"field": label},
                max_length=200,
                required=False,
                initial=(claimed or {}).get(name, ""),
                widget=widget,
            )

    def clean(self) -> dict[str, Any]:
        """Adds ``corrections``: the corrected values given, by field name."""
        cleaned = super().clean() or {}
        cleaned["corrections"] = {
            name: cleaned[f"correct_{name}"]
            for name in catalogue.VERIFIABLE_FIELDS
            if cleaned.get(f"correct_{name}")
        }
        return cleaned


class BusinessContactRemoveForm(forms.Form):
    _no_such = _("No such contact.")
    contact_id = forms.IntegerField(
        min_value=1, error_messages={"required": _no_such, "invalid": _no_such, "min_value": _no_such}
    )


class BusinessContactForm(forms.Form):
    """A provincial business manager shown to drivers under 联系我们 (staff page)."""

    province_code = forms.ChoiceField(label=_("Province"))
    name = forms.CharField(label=_("Name"), max_length=40)
    unit = forms.CharField(label=_("Unit"), max_length=100, required=False)
    phone = forms.CharField(label=_("Telephone"), max_length=20)
    hours = forms.CharField(label=_("Office hours"), max_length=60, required=False)

    def __init__(self, *args: Any, provinces: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["province_code"])
        field.choices = provinces
        if len(provinces) == 1:
            field.initial = provinces[0][0]


class QueueFilterForm(forms.Form):
    """The staff queue's filters (``?state=&type=&overdue=1&due_today=1``); an unknown value
    falls back to the default rather than failing (a link may be old)."""

    state = forms.CharField(required=False)
    type = forms.CharField(required=False)
    overdue = forms.CharField(required=False)
    due_today = forms.CharField(required=False)

    def filters(self) -> dict[str, Any]:
        self.is_valid()  # every field is optional text: always valid
        data = self.cleaned_data
        states = ("open", "all", *[s for s in CaseState.values if s != CaseState.DRAFT])
        return {
            "state": data["state"] if data["state"] in states else "open",
            "case_type": data["type"] if data["type"] in CaseType.values else "",
            "overdue": data["overdue"] == "1",
            "due_today": data["due_today"] == "1",
        }


class MaterialListResetForm(forms.Form):
    """A province goes back to the national material list of one service (staff page)."""

    case_type = forms.ChoiceField(choices=CaseType.choices)


class MaterialListForm(MaterialListResetForm):
    """A province's own material list of one service: what is required and what is optional."""

    required = forms.MultipleChoiceField(choices=MaterialKind.choices, required=False)
    optional = forms.MultipleChoiceField(choices=MaterialKind.choices, required=False)
