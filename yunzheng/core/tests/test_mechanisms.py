"""The one-of-each mechanisms of core (ADR 0014): clock, file response, error adapter, posted
actions, workflow table, app settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.http import QueryDict
from django.test import override_settings

from yunzheng.core.appsettings import AppSettings
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import ErrorDetail, ValidationFailed
from yunzheng.core.forms import PostedAction, add_domain_error, error_text, posted_action
from yunzheng.core.http import file_response
from yunzheng.core.workflow import Transition, WorkflowTable


def test_today_in_china_turns_at_midnight_beijing_time_not_utc() -> None:
    assert today_in_china(dt.datetime(2026, 12, 3, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 12, 3)
    assert today_in_china(dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.UTC)) == dt.date(2026, 12, 4)


def test_file_response_is_private_unsniffed_and_encodes_chinese_names() -> None:
    response = file_response(b"%PDF-", content_type="application/pdf", filename="许可证.pdf")
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert file_response(b"x", content_type="image/png", inline=True)["Content-Disposition"] == "inline"


class _Form(forms.Form):
    days = forms.CharField(required=False)
    name = forms.CharField(required=False)


def test_domain_error_goes_on_the_fields_it_names_else_above_the_form() -> None:
    form = _Form(data={})
    assert form.is_valid()
    error = ValidationFailed(
        "bad", "Bad input.", details=[ErrorDetail(field="days[2]", code="x", message="Not a date.")]
    )
    add_domain_error(form, error)
    assert form.errors == {"days": ["Not a date."]}

    other = _Form(data={})
    assert other.is_valid()
    add_domain_error(
        other, ValidationFailed("bad", "Bad input.", details=[ErrorDetail("elsewhere", "x", "No.")])
    )
    assert other.non_field_errors() == ["Bad input."]
    assert error_text(error) == "Bad input. Not a date."
    # A single-field error whose message is its detail's is said once.
    assert (
        error_text(ValidationFailed.single(field="file", code="x", message="Choose a file."))
        == "Choose a file."
    )

    # An error that names no field of the form goes on the one input the page names, if any.
    coded = _Form(data={})
    assert coded.is_valid()
    add_domain_error(coded, ValidationFailed("gone", "No such code."), field="name")
    assert coded.errors == {"name": ["No such code."]}


class _NameForm(forms.Form):
    name = forms.CharField(max_length=4)


_CALLS: list[tuple[object, object, dict[str, object]]] = []


def _record(subject: object, user: object, data: dict[str, object]) -> str:
    _CALLS.append((subject, user, data))
    return f"n{len(_CALLS)}"


_ACTIONS = {
    "rename": PostedAction(_NameForm, _record, lambda result: f"renamed {result}", code="rename.invalid"),
    "touch": PostedAction(None, _record, "touched"),
}


def test_a_posted_action_validates_its_form_then_calls_its_one_service() -> None:
    _CALLS.clear()
    posted = QueryDict("action=rename&name=abc")
    assert posted_action(_ACTIONS, posted).perform(posted, "case-1", "clerk") == "renamed n1"
    assert _CALLS == [("case-1", "clerk", {"name": "abc"})]
    touched = QueryDict("action=touch")
    assert posted_action(_ACTIONS, touched).perform(touched, "case-2", "clerk") == "touched"
    assert _CALLS[-1] == ("case-2", "clerk", {})
    # invalid input is the action's own code, on the field, and the service is not called
    too_long = QueryDict("action=rename&name=abcdef")
    with pytest.raises(ValidationFailed) as invalid:
        posted_action(_ACTIONS, too_long).perform(too_long, "case-3", "clerk", code="page.invalid")
    assert (invalid.value.code, invalid.value.details[0].field) == ("rename.invalid", "name")
    assert len(_CALLS) == 2


def test_an_unknown_posted_action_is_an_error_on_the_action_field() -> None:
    with pytest.raises(ValidationFailed) as unknown:
        posted_action(_ACTIONS, QueryDict("op=explode"), key="op", code="x.unknown")
    assert (unknown.value.code, unknown.value.details[0].field) == ("x.unknown", "op")
    with pytest.raises(ValidationFailed):
        posted_action(_ACTIONS, QueryDict(""))


def test_workflow_table_finds_by_variant_and_refuses_duplicates() -> None:
    a = Transition("draft", "submit", "sent", frozenset({"applicant"}), frozenset({"x"}))
    b = Transition("draft", "submit", "review", frozenset({"applicant"}), frozenset({"y"}))
    table = WorkflowTable([a, b])
    assert table.find(state="draft", action="submit", variant="y") is b
    assert table.find(state="draft", action="submit", variant="z") is None
    assert table.allowed_actions(state="draft", role="applicant", variant="x") == ["submit"]
    assert table.allowed_actions(state="draft", role="staff", variant="x") == []
    with pytest.raises(ValueError, match="two transitions"):
        WorkflowTable([a, a])


def test_app_settings_read_django_settings_with_declared_defaults() -> None:
    conf = AppSettings(YZ_TEST_LIMIT=5)
    assert conf.YZ_TEST_LIMIT == 5
    with override_settings(YZ_TEST_LIMIT=7):
        assert conf.YZ_TEST_LIMIT == 7
    with pytest.raises(AttributeError):
        _ = conf.YZ_TEST_UNDECLARED
