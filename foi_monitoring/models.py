from django.contrib.postgres.fields import ArrayField
from django.db import models


class PublicAuthority(models.Model):
    """A body subject to FOI, seeded from the bundled UK registers and editable by admins."""

    name = models.CharField(max_length=300)
    short_name = models.CharField(max_length=120, blank=True)
    aliases = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    handles = models.JSONField(default=dict, blank=True, help_text='Per platform, e.g. {"x": ["LewishamCouncil"]}')
    web_domains = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    authority_type = models.CharField(max_length=120, blank=True)
    nation = models.CharField(max_length=40, blank=True)
    region = models.CharField(max_length=80, blank=True)
    code = models.CharField(max_length=20, blank=True, help_text="mySociety local-authority code where known")
    source_id = models.CharField(max_length=200, blank=True, help_text="Identifier in the register it came from")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "public authorities"
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="authority_code_unique"),
        ]

    def __str__(self):
        return self.name
