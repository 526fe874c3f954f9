"""Who may do what: every view asks this module, never the user flags.

Roles come only from active AccessGrants. An admin grant (on any team) makes its
holder an admin everywhere; comms officers and FOI enforcement members act on the
teams they are granted.
"""

from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from accounts.models import AccessGrant, Role, Team


@dataclass(frozen=True)
class Access:
    is_admin: bool = False
    roles_by_team: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def has_any(self) -> bool:
        return self.is_admin or bool(self.roles_by_team)

    @property
    def is_foi(self) -> bool:
        return self.is_admin or any(Role.FOI_ENFORCEMENT in roles for roles in self.roles_by_team.values())

    def roles_on(self, team_id: int) -> frozenset[str]:
        return self.roles_by_team.get(team_id, frozenset())

    def can_triage(self, team_id: int) -> bool:
        return self.is_admin or bool(self.roles_on(team_id))

    def team_ids(self) -> list[int]:
        if self.is_admin:
            return list(Team.objects.values_list("id", flat=True))
        return list(self.roles_by_team)

    def can_edit_search(self, *, team_id: int, purpose: str) -> bool:
        if self.is_admin:
            return True
        roles = self.roles_on(team_id)
        # FOI monitoring is the FOI group's alone; comms officers keep the other purposes.
        if purpose == "foi_monitoring":
            return Role.FOI_ENFORCEMENT in roles
        return Role.COMMS_OFFICER in roles


NO_ACCESS = Access()


def access_for(user) -> Access:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_ACCESS
    cached = getattr(user, "_earshot_access", None)
    if cached is not None:
        return cached
    roles: dict[int, set[str]] = {}
    is_admin = False
    for team_id, role in AccessGrant.objects.active().filter(user=user).values_list("team_id", "role"):
        roles.setdefault(team_id, set()).add(role)
        is_admin = is_admin or role == Role.ADMIN
    access = Access(is_admin=is_admin, roles_by_team={t: frozenset(r) for t, r in roles.items()})
    user._earshot_access = access
    return access


def role_required(*roles: str):
    """Allow a view only to signed-in users holding one of `roles` on some team.

    An admin grant satisfies every role. Views that act on one team check that team
    again with Access.can_triage / can_edit_search.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            access = access_for(request.user)
            allowed = access.is_admin or any(
                role in team_roles for team_roles in access.roles_by_team.values() for role in roles
            )
            if not allowed:
                raise PermissionDenied("Your access list entry does not cover this page.")
            request.access = access
            return view(request, *args, **kwargs)

        wrapped.earshot_roles = roles
        return wrapped

    return decorator


ANY_ROLE = (Role.COMMS_OFFICER, Role.FOI_ENFORCEMENT, Role.ADMIN)
