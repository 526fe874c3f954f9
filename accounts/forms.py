from django import forms
from django.contrib.auth import get_user_model

from accounts.models import Role, Team


class IdChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that refuses anything but a plausible id before it reaches the database."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not str(value).isdigit() or len(str(value)) > 18:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


def _people():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class GrantForm(forms.Form):
    user = IdChoiceField(queryset=_people())
    team = IdChoiceField(queryset=Team.objects.order_by("name"))
    role = forms.ChoiceField(choices=Role.choices)
    reason = forms.CharField(max_length=300, help_text="Why this person needs this access; kept with the line.")
    expires_on = forms.DateField(required=False, help_text="Optional: the grant ends at the start of this day.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _people()


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ExcludeForm(forms.Form):
    user = IdChoiceField(queryset=_people())
    reason = forms.CharField(max_length=300, help_text="Why this person must never hold access.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _people().filter(excluded_at__isnull=True)


class HistoryForm(forms.Form):
    user = IdChoiceField(queryset=get_user_model().objects.all(), required=False)
    team = IdChoiceField(queryset=Team.objects.all(), required=False)


class TotpResetForm(forms.Form):
    user = IdChoiceField(queryset=get_user_model().objects.none())
    reason = forms.CharField(max_length=300, help_text="Why: a lost or replaced phone, say.")

    def __init__(self, *args, **kwargs):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        super().__init__(*args, **kwargs)
        with_device = TOTPDevice.objects.filter(confirmed=True).values("user_id")
        self.fields["user"].queryset = get_user_model().objects.filter(pk__in=with_device).order_by("username")


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="What they sign in with.")
    email = forms.EmailField(max_length=254, help_text="The set-password link is sent here.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    team = IdChoiceField(queryset=Team.objects.order_by("name"), required=False,
                         help_text="Optional: a first grant on this team.")
    role = forms.ChoiceField(choices=[("", "—")] + list(Role.choices), required=False)
    reason = forms.CharField(max_length=300, required=False, help_text="Why they need that access; kept with the grant.")

    def clean_username(self):
        from django.contrib.auth.validators import UnicodeUsernameValidator

        username = self.cleaned_data["username"].strip()
        UnicodeUsernameValidator()(username)
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("Someone already has that username.")
        return username

    def clean(self):
        data = super().clean()
        team, role, reason = data.get("team"), data.get("role"), (data.get("reason") or "").strip()
        if team or role:
            if not (team and role):
                raise forms.ValidationError("Choose both a team and a role for a first grant, or neither.")
            if not reason:
                raise forms.ValidationError("Give the reason for the first grant.")
        data["reason"] = reason
        return data
