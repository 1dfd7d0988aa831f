"""Forms of the alarm pages (validation of what people type; the services decide the rest)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yunzheng.alarms.models import RuleKind, Severity


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
    region_code = forms.RegexField(label=_("Region (GB/T 2260)"), regex=r"^\d{6}$", required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    params = JSONTextField(label=_("Parameters (JSON)"), required=False)
    schedule = JSONTextField(label=_("Schedule (JSON: days 1-7, hours [from, to))"), required=False)
    note = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)


class ActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("acknowledge", "assign", "close", "note")])
    note = forms.CharField(required=False, max_length=500)
    assignee = forms.IntegerField(required=False)


class AnswerForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Answer"), choices=[("explanation", _("Explanation")), ("correction", _("Correction"))]
    )
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
