"""HTML forms: they parse and render; the rules live in services (errors come back as DomainErrors)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from yunzheng.accounts.models import CompanyCredential, RealNameVerification


class LoginForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": _("11-digit mobile number")}
        ),
    )
    code = forms.CharField(
        label=_("SMS code"),
        max_length=16,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "placeholder": _("6 digits")}
        ),
    )
    agree = forms.BooleanField(required=False)


class PhotoForm(forms.Form):
    # A plain FileField: the content is checked by core.uploads, never the name or declared type.
    photo = forms.FileField(
        label=_("Photo of the portrait side of your ID card"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"}),
    )


class RealNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    sex = forms.ChoiceField(label=_("Sex"), choices=RealNameVerification.Sex.choices)
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=20)
    birth_date = forms.DateField(
        label=_("Birth date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    address = forms.CharField(label=_("Address"), max_length=120)
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class CompanyRegisterForm(forms.Form):
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=32)
    name = forms.CharField(label=_("Company name"), max_length=200)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=50)
    supervision_company_id = forms.CharField(
        label=_("CompanyId (if the ministry has already assigned one)"), max_length=64, required=False
    )


class CredentialForm(forms.Form):
    name = forms.CharField(label=_("Credential name"), max_length=100, initial="upload")
    environment = forms.ChoiceField(
        label=_("Environment"),
        choices=CompanyCredential.Environment.choices,
        initial=CompanyCredential.Environment.SANDBOX,
    )


class MemberForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number of the person to add"), max_length=32)


class ContactChangeForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number of the new contact person"), max_length=32)
    reason = forms.CharField(
        label=_("Reason for the change"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm = forms.BooleanField(
        label=_("I understand the consequences and want to change the designated contact person."),
        required=False,
    )
    # The legal representative's confirmation: the signed and sealed authorisation letter.
    letter = forms.FileField(
        label=_("Authorisation letter signed by the legal representative and sealed (PDF, JPEG or PNG)"),
        required=False,
    )


class StaffLoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class OtpForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejection (the applicant sees it)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )


class CurrentPasswordForm(forms.Form):
    password = forms.CharField(label=_("Your current password"), widget=forms.PasswordInput, max_length=128)


class NewPasswordForm(forms.Form):
    new_password1 = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
    )


class PasswordChangeForm(NewPasswordForm):
    old_password = forms.CharField(
        label=_("Your current password"), widget=forms.PasswordInput, max_length=128
    )
    field_order = ["old_password", "new_password1", "new_password2"]
