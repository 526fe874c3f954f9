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
