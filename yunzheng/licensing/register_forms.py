"""Forms of the ministry's registers: the credit blacklist and the qualified evaluation agencies.

They check the shape of the input; the services (services.blacklist, services.evaluations) hold
the rules and say why they refuse.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yunzheng.accounts.models import Company


class BlacklistEntryForm(forms.Form):
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18, min_length=18)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    starts_on = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label=_("Until (empty: until lifted)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_credit_code(self) -> Company:
        code = self.cleaned_data["credit_code"].strip().upper()
        company = Company.objects.filter(credit_code=code).first()
        if company is None:
            raise forms.ValidationError(_("No company has this credit code."), code="company.unknown")
        return company

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The end cannot be before the start."))
        return data


class BlacklistLiftForm(forms.Form):
    entry_id = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for lifting"), max_length=2000)


class EvaluationAgencyForm(forms.Form):
    name = forms.CharField(label=_("Evaluating agency"), max_length=200)
    authorised_from = forms.DateField(
        label=_("Authorised from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    authorised_until = forms.DateField(
        label=_("Authorised until (empty: no end)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
