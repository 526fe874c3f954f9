from django import forms

from listening.models import Channel, Platform, Purpose, SavedSearch


class SavedSearchForm(forms.ModelForm):
    platforms = forms.MultipleChoiceField(
        choices=Platform.choices, widget=forms.CheckboxSelectMultiple, help_text="Where this search runs."
    )

    class Meta:
        model = SavedSearch
        fields = [
            "team", "name", "query", "purpose", "purpose_statement", "publishable", "platforms", "interval_minutes",
            "enabled",
        ]
        widgets = {
            "query": forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
            "purpose_statement": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        self.access = access
        self.fields["team"].queryset = self.fields["team"].queryset.filter(id__in=access.team_ids())
        from listening.dispatch import platforms_without_search
        from listening.sources.registry import installed_platforms

        channels_only = platforms_without_search()
        labels = [Platform(p).label for p in installed_platforms() if p in Platform.values and p not in channels_only]
        help_text = f"Where this search runs. Searched in this installation: {', '.join(labels)}. "
        if channels_only:
            names = ", ".join(Platform(p).label for p in sorted(channels_only) if p in Platform.values)
            help_text += (
                f"{names}: no search on the platform; this search is matched against the posts of "
                "its channels (feeds, pages), which an admin adds. "
            )
        self.fields["platforms"].help_text = help_text + "For the others, the query they would be asked is shown below."
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


class CredentialForm(forms.Form):
    """A platform's keys. Secret inputs are always empty: a stored secret is never sent
    back to the browser, and leaving one blank keeps it."""

    base_url = forms.URLField(
        label="Instance", max_length=300, assume_scheme="https", help_text="The server this account is on, e.g. https://mastodon.social."
    )

    def __init__(self, *args, platform: str, credential=None, **kwargs):
        from listening.credentials import PER_INSTANCE, credential_values, default_base_url, keys_for

        super().__init__(*args, **kwargs)
        self.platform, self.credential = platform, credential
        stored = credential_values(credential) if credential else {}
        if platform not in PER_INSTANCE:
            del self.fields["base_url"]
        elif credential is not None:
            # A token belongs to its instance: to move, add a credential for the other one.
            self.fields["base_url"].disabled = True
            self.fields["base_url"].required = False
            self.initial["base_url"] = credential.base_url
        else:
            self.initial["base_url"] = default_base_url(platform)
        self.secret_set = {}
        for key in keys_for(platform):
            if key.secret:
                is_set = bool(stored.get(key.name))
                self.secret_set[key.name] = is_set
                self.fields[key.name] = forms.CharField(
                    label=key.label,
                    max_length=4000,
                    required=key.required and not is_set,
                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                    help_text="Set — type a new value to replace it." if is_set else key.help,
                )
            else:
                self.fields[key.name] = forms.CharField(
                    label=key.label, max_length=300, required=key.required, help_text=key.help
                )
                self.initial[key.name] = stored.get(key.name, "")

    def clean_base_url(self):
        from listening.credentials import normalise_base_url

        if self.credential is not None:
            return self.credential.base_url
        url = normalise_base_url(self.cleaned_data["base_url"])
        if not url.startswith(("http://", "https://")):
            raise forms.ValidationError("Give the instance's http(s) address.")
        return url

    def clean(self):
        from listening.models import PlatformCredential

        cleaned = super().clean()
        if self.credential is None and "base_url" not in self.errors:
            exists = PlatformCredential.objects.filter(platform=self.platform, base_url=cleaned.get("base_url", ""))
            if exists.exists():
                raise forms.ValidationError("There is a credential for this already: replace its keys instead.")
        return cleaned

    @property
    def values(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if name != "base_url"}


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ["platform", "channel", "name", "base_url", "interval_minutes", "enabled"]
        help_texts = {"base_url": "Mastodon only: the instance to read from (blank: the configured one)."}
        labels = {"interval_minutes": "Every (minutes)", "name": "Name (optional)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [(value, label) for value, label in Platform.choices if value != Platform.DEMO]
        self.fields["channel"].help_text = (
            "A news feed's URL; mentions or list:<id> on X; notifications or #tag on Mastodon; notifications on Bluesky."
        )

    def clean_channel(self):
        return self.cleaned_data["channel"].strip()

    def clean_base_url(self):
        from listening.credentials import normalise_base_url

        url = normalise_base_url(self.cleaned_data.get("base_url", ""))
        if url and not url.startswith(("http://", "https://")):
            raise forms.ValidationError("Give the instance's http(s) address.")
        return url

    def clean(self):
        from listening.credentials import PER_INSTANCE
        from listening.sources.registry import source_class

        cleaned = super().clean()
        platform, channel = cleaned.get("platform"), cleaned.get("channel")
        if cleaned.get("base_url") and platform and platform not in PER_INSTANCE:
            self.add_error("base_url", "Only Mastodon channels name an instance.")
        if platform and channel:
            try:
                problem = source_class(platform).channel_error(channel)
            except LookupError:
                problem = f"No source is installed for {Platform(platform).label} yet, so it has no channels here."
            if problem:
                self.add_error("channel", problem)
        return cleaned


class SpendCapForm(forms.Form):
    monthly_cap = forms.DecimalField(
        label="Monthly cap ($)",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Harvesting on this platform stops for the month when its estimated spend reaches this. Blank: no cap.",
    )
