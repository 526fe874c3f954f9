from django import forms

from listening.models import Platform, Purpose, SavedSearch


class SavedSearchForm(forms.ModelForm):
    platforms = forms.MultipleChoiceField(
        choices=Platform.choices, widget=forms.CheckboxSelectMultiple, help_text="Where this search runs."
    )

    class Meta:
        model = SavedSearch
        fields = ["team", "name", "query", "purpose", "platforms", "interval_minutes", "enabled"]
        widgets = {"query": forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"})}

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        self.access = access
        self.fields["team"].queryset = self.fields["team"].queryset.filter(id__in=access.team_ids())
        from listening.sources.registry import installed_platforms

        labels = [Platform(p).label for p in installed_platforms()]
        self.fields["platforms"].help_text = (
            f"Where this search runs. Harvested in this installation: {', '.join(labels)}; "
            "for the others, the query they would be asked is shown below."
        )
        if self.instance.pk:
            self.initial["platforms"] = self.instance.platforms
        elif len(access.team_ids()) == 1:
            self.initial["team"] = access.team_ids()[0]
        if not access.is_admin and not any("comms_officer" in roles for roles in access.roles_by_team.values()):
            self.fields["purpose"].choices = [(Purpose.FOI_MONITORING, Purpose.FOI_MONITORING.label)]

    def clean(self):
        cleaned = super().clean()
        team, purpose = cleaned.get("team"), cleaned.get("purpose")
        if team and purpose and not self.access.can_edit_search(team_id=team.id, purpose=purpose):
            raise forms.ValidationError("Your role cannot edit searches of this kind for this team.")
        return cleaned
