from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class User(AbstractUser):
    """A person who may sign in. Signing in grants nothing: access comes from AccessGrants."""

    # Someone who must never hold access (a body's senior leadership, say): grants to them are refused.
    excluded_at = models.DateTimeField(null=True, blank=True)
    excluded_reason = models.CharField(max_length=300, blank=True)
    excluded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_excluded(self) -> bool:
        return self.excluded_at is not None

    # Being a superuser grants nothing by itself: permissions come only from grants.
    def has_perm(self, perm, obj=None):
        return self.is_active and any(
            hasattr(b, "has_perm") and b.has_perm(self, perm, obj) for b in _backends()
        )

    def has_module_perms(self, app_label):
        return self.is_active and any(
            hasattr(b, "has_module_perms") and b.has_module_perms(self, app_label) for b in _backends()
        )


def _backends():
    from django.contrib.auth import get_backends

    return get_backends()


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True, help_text="Where circulations to this team are sent.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    COMMS_OFFICER = "comms_officer", "Comms officer"
    FOI_ENFORCEMENT = "foi_enforcement", "FOI enforcement"
    ADMIN = "admin", "Admin"


class AccessGrantQuerySet(models.QuerySet):
    def active(self):
        """Unrevoked and not past its expiry date: an expired grant gives nothing even before beat revokes it."""
        from django.utils import timezone

        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gt=timezone.localdate())
        )


class AccessGrant(models.Model):
    """One line of the access list. Revoking keeps the line, so the list has a history."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grants")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="grants")
    role = models.CharField(max_length=20, choices=Role.choices)
    reason = models.CharField(max_length=300, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)
    # The grant ends at the start of this day (local time).
    expires_on = models.DateField(null=True, blank=True)
    # Access review: the last time an admin confirmed this line is still needed (granting counts).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "team", "role"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_grant_per_user_team_role",
            )
        ]

    def __str__(self):
        state = "revoked" if self.revoked_at else "active"
        return f"{self.user} · {self.team} · {self.get_role_display()} ({state})"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and (self.expires_on is None or self.expires_on > timezone.localdate())

    @property
    def last_confirmed_at(self):
        return self.confirmed_at or self.granted_at
