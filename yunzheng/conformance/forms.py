"""Forms of the conformance pages: they parse what is posted; the services decide the rest."""

from __future__ import annotations

from django import forms


class CampaignStartForm(forms.Form):
    replay = forms.CharField(required=False)

    def clean_replay(self) -> bool:
        return bool(self.cleaned_data["replay"] == "1")


class CycleOpenForm(forms.Form):
    kind = forms.CharField(required=False)  # the service names the kinds


class OfficialStartForm(forms.Form):
    company_id = forms.IntegerField(min_value=1)
    booking_id = forms.IntegerField(required=False, min_value=1)
    reference = forms.CharField(required=False, strip=False)
