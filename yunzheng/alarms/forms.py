"""Forms of the alarm pages (validation of what people type; the services decide the rest)."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from yunzheng.alarms.models import RuleKind, Severity
from yunzheng.core.regions import Region, RegionChoiceField, cities, provinces


class JSONTextField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4, "class": "mono"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or "{}"
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s"), params={"error": exc.msg}) from exc
        if not isinstance(parsed, dict):
            raise forms.ValidationError(_("Write a JSON object: {...}"))
        return parsed

    def prepare_value(self, value: Any) -> Any:
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    region_code = RegionChoiceField(
        label=_("Region"),
        regions=[],
        required=False,
        error_messages={"invalid_choice": _("Choose a region from the list.")},
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    params = JSONTextField(label=_("Parameters (JSON)"), required=False)
    schedule = JSONTextField(label=_("Schedule (JSON: days 1-7, hours [from, to))"), required=False)
    note = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)

    def __init__(self, *args: Any, region_prefix: str, current_region: str = "", **kwargs: Any) -> None:
        """The regions of the author's scope (`region_prefix`), each province followed by its cities;
        a rule's present region stays choosable even when it is finer (a county)."""
        super().__init__(*args, **kwargs)
        regions: list[Region] = []
        for province in provinces(region_prefix):
            in_province = cities(province.code[:2], municipalities_as_province=True)
            if len(region_prefix) <= 2:
                regions.append(province)
            regions += [
                c for c in in_province if c.code != province.code and c.code.startswith(region_prefix)
            ]
        if current_region and current_region not in {r.code for r in regions}:
            regions.insert(0, Region(current_region, current_region, str(_("Present region"))))
        cast(RegionChoiceField, self.fields["region_code"]).set_regions(
            regions, blank=_("Own region (nationwide for the ministry)")
        )


class NoteForm(forms.Form):
    """An action on an alarm with an optional note (acknowledge, close, note)."""

    note = forms.CharField(required=False, max_length=500)


class AssignForm(NoteForm):
    assignee = forms.IntegerField(required=False)


class RuleEnabledForm(forms.Form):
    """Switch a rule on ("1") or off (anything else); the note is kept to its first 200 characters."""

    enabled = forms.CharField(required=False)
    note = forms.CharField(required=False)

    def clean_enabled(self) -> bool:
        return bool(self.cleaned_data["enabled"] == "1")

    def clean_note(self) -> str:
        return str(self.cleaned_data["note"])[:200]


class DutyForm(forms.Form):
    """The desk's duty switch ("1" on, anything else off; absent: unchanged) and "mark as read"."""

    on_duty = forms.CharField(required=False, empty_value=None)
    read = forms.BooleanField(required=False)


class AnswerForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Answer"), choices=[("explanation", _("Explanation")), ("correction", _("Correction"))]
    )
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
