"""The one adapter from a service's DomainError to a page, and the one table of posted actions.

Pages validate input with Django forms and call a service; when the service refuses, its error
goes on the form fields it names (`ErrorDetail.field`; an indexed field such as ``days[2]`` goes on
``days``), or above the form when it names none of them. Pages without a form show it as one
message (`error_text`); such pages turn an invalid form into the same kind of error
(`cleaned_data`, `form_error`).

A page that posts several actions (accept, return, reject; add, remove) keeps them in one table
``{name: PostedAction(form, run, done)}``: the form that parses the action's input, the one service
call it makes, and what the page says once it is done. `posted_action` picks the posted one
(an unknown name is a ValidationFailed on the action field); `PostedAction.perform` validates and
calls, for pages that answer with a message; `PostedAction.bind` and `PostedAction.call` split
the two for pages that show the bound form again with its errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from yunzheng.core.errors import DomainError, ValidationFailed


def add_domain_error(form: forms.Form, error: DomainError, *, field: str | None = None) -> None:
    """Show a service's error on the fields it names, else on ``field`` (a page whose form has
    one input the error can only be about), else above the form."""
    placed = False
    for detail in error.details:
        target = detail.field.split("[", 1)[0]
        if target in form.fields:
            form.add_error(target, detail.message)
            placed = True
    if not placed:
        form.add_error(field, error.message)


def error_text(error: DomainError) -> str:
    """The error and its details in one line (for pages that answer with a message)."""
    extra = [d.message for d in error.details if d.message and d.message != error.message]
    return f"{error.message} {'；'.join(extra)}" if extra else error.message


def message_domain_error(request: HttpRequest, error: DomainError) -> None:
    """Show a service's error as a message on the next page."""
    messages.error(request, error_text(error))


def form_error(form: forms.Form, *, code: str) -> ValidationFailed:
    """A bound form's first invalid field as the ValidationFailed a service would raise, for pages
    that answer with a message rather than the form (``form.errors`` is in field order)."""
    for field, errors in form.errors.items():
        name = "" if field == NON_FIELD_ERRORS else field
        return ValidationFailed.single(field=name, code=code, message=str(errors[0]))
    raise ValueError("the form has no errors")


def cleaned_data(form: forms.Form, *, code: str) -> dict[str, Any]:
    """The form's cleaned data, or its first error raised as a ValidationFailed with ``code``."""
    if not form.is_valid():
        raise form_error(form, code=code)
    return form.cleaned_data


UNKNOWN_ACTION = "action.unknown"
INVALID_INPUT = "form.invalid"


@dataclass(frozen=True)
class PostedAction:
    """One action a page posts: the form that parses its input (None: it takes none), the one
    service call it makes as ``run(subject, user, cleaned_data)``, and what the page says once it
    is done (a text, or a function of the service's result)."""

    form: type[forms.Form] | None
    run: Callable[[Any, Any, dict[str, Any]], object]
    done: str | Promise | Callable[[Any], str] = ""
    code: str = ""
    """The error code of invalid input, when the action's own (else the page's)."""

    def bind(self, data: QueryDict, files: Any = None, **form_kwargs: Any) -> forms.Form:
        """The action's form bound to the posted data (an action without input has an empty one,
        always valid)."""
        if self.form is None:
            return forms.Form(data)
        return self.form(data, files, **form_kwargs)

    def call(self, subject: Any, user: Any, form: forms.Form) -> str:
        """Run the service with a valid form's data; returns the success message (the service's
        DomainError propagates)."""
        result = self.run(subject, user, form.cleaned_data)
        if isinstance(self.done, str | Promise):
            return str(self.done)
        return self.done(result)

    def perform(
        self,
        data: QueryDict,
        subject: Any,
        user: Any,
        *,
        code: str = "",
        files: Any = None,
        **form_kwargs: Any,
    ) -> str:
        """Validate and run: an invalid form raises its first error as a ValidationFailed with
        the action's ``code`` (else the page's), as a service would; returns the success message."""
        form = self.bind(data, files, **form_kwargs)
        if not form.is_valid():
            raise form_error(form, code=self.code or code or INVALID_INPUT)
        return self.call(subject, user, form)


def posted_action(
    actions: Mapping[str, PostedAction], data: QueryDict, *, key: str = "action", code: str = UNKNOWN_ACTION
) -> PostedAction:
    """The action named by the posted ``key``; an unknown one is a ValidationFailed on that field."""
    chosen = actions.get(data.get(key) or "")
    if chosen is None:
        raise ValidationFailed.single(field=key, code=code, message=_("Unknown action."))
    return chosen
