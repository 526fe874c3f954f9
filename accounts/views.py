"""Sign-in, and the access list managed by admins."""

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.access import role_required
from accounts.forms import ExcludeForm, GrantForm, HistoryForm, InviteForm, RevokeForm, TotpResetForm
from accounts.invitations import (
    invitation_accept,
    invitation_resend,
    invitation_tokens,
    invitation_withdraw,
    invited_user,
    pending_invitations,
    user_invite,
)
from accounts.models import AccessGrant, Role, User
from accounts.reauth import authentication_renewed, recent_auth_required, safe_next
from accounts.services import (
    AccessRefused,
    access_grant_confirm,
    access_grant_create,
    access_grant_revoke,
    access_review_due,
    user_exclude,
    user_exclusion_lift,
)
from accounts.signin_views import sign_in_pending_start
from accounts.two_factor import CodeRefused, code_verify, has_totp_device, totp_device_remove
from governance.services import audit_event_record, client_ip

EXPORT_MAX_ROWS = 100_000


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets the length only on the widget; without a validator an over-long
        # name reaches authenticate() and the throttling table, which cannot store it.
        self.fields["username"].validators.append(MaxLengthValidator(self.fields["username"].max_length))


class LoginView(auth_views.LoginView):
    """The password step. Someone with an authenticator is signed in only after the code step (login_code)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not has_totp_device(user):
            return super().form_valid(form)
        sign_in_pending_start(self.request, user)
        target = reverse("accounts:login_code")
        if next_path := self.get_redirect_url():
            target += "?" + urlencode({"next": next_path})
        return HttpResponseRedirect(target)


class LogoutView(auth_views.LogoutView):
    pass


# The access list, managed by admins: grant, revoke, review, exclude, history and export.


def _access_page(request, *, grant_form=None, exclude_form=None, reset_form=None, status=200):
    grants = AccessGrant.objects.active().select_related("user", "team", "granted_by", "confirmed_by")
    now = timezone.now()
    return render(request, "accounts/access.html", {
        "grants": grants,
        "due": access_review_due(now=now),
        "review_days": settings.EARSHOT_ACCESS_REVIEW_DAYS,
        "excluded": User.objects.filter(excluded_at__isnull=False).select_related("excluded_by"),
        "grant_form": grant_form or GrantForm(),
        "exclude_form": exclude_form or ExcludeForm(),
        "revoke_form": RevokeForm(),
        "reset_form": reset_form or TotpResetForm(),
    }, status=status)


@require_GET
@role_required(Role.ADMIN)
def access_list(request):
    return _access_page(request)


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def access_grant(request):
    form = GrantForm(request.POST)
    if not form.is_valid():
        return _access_page(request, grant_form=form, status=400)
    data = form.cleaned_data
    try:
        grant = access_grant_create(
            user=data["user"], team=data["team"], role=data["role"], reason=data["reason"],
            expires_on=data["expires_on"], granted_by=request.user, ip=client_ip(request),
        )
    except (AccessRefused, ValueError) as error:
        form.add_error(None, str(error))
        return _access_page(request, grant_form=form, status=400)
    messages.success(request, f"Granted: {grant}.")
    return redirect("accounts:access")


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def access_revoke(request, grant_id):
    grant = get_object_or_404(AccessGrant.objects.select_related("user", "team"), pk=grant_id)
    if request.POST.get("confirm") != "revoke":
        return HttpResponseBadRequest("Use the Revoke button to revoke a grant.", content_type="text/plain")
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Give a reason (up to 300 characters) to revoke {grant}. Nothing was changed.")
        return redirect("accounts:access")
    if access_grant_revoke(grant=grant, revoked_by=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)):
        messages.success(request, f"Revoked: {grant.user} · {grant.team} · {grant.get_role_display()}.")
    else:
        messages.info(request, "That grant was already revoked.")
    return redirect("accounts:access")


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def access_confirm(request, grant_id):
    grant = get_object_or_404(AccessGrant.objects.select_related("user", "team"), pk=grant_id)
    if request.POST.get("confirm") != "confirm":
        return HttpResponseBadRequest("Use the Confirm button to re-confirm a grant.", content_type="text/plain")
    if access_grant_confirm(grant=grant, confirmed_by=request.user, ip=client_ip(request)):
        messages.success(request, f"Confirmed for another {settings.EARSHOT_ACCESS_REVIEW_DAYS} days: {grant}.")
    else:
        messages.info(request, "That grant is no longer active; nothing to confirm.")
    return redirect("accounts:access")


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def user_exclude_view(request):
    form = ExcludeForm(request.POST)
    if not form.is_valid():
        return _access_page(request, exclude_form=form, status=400)
    person = form.cleaned_data["user"]
    try:
        revoked = user_exclude(user=person, reason=form.cleaned_data["reason"], excluded_by=request.user, ip=client_ip(request))
    except ValueError as error:
        form.add_error(None, str(error))
        return _access_page(request, exclude_form=form, status=400)
    messages.success(request, f"{person} is excluded; {revoked} grant(s) revoked.")
    return redirect("accounts:access")


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def user_exclusion_lift_view(request, user_id):
    person = get_object_or_404(User, pk=user_id)
    reason = request.POST.get("reason", "")
    if len(reason) > 300:
        messages.error(request, "The reason can be at most 300 characters. Nothing was changed.")
        return redirect("accounts:access")
    try:
        user_exclusion_lift(user=person, reason=reason, lifted_by=request.user, ip=client_ip(request))
    except ValueError as error:
        messages.error(request, f"{error} Nothing was changed.")
        return redirect("accounts:access")
    messages.success(request, f"{person} is no longer excluded. Their old grants stay revoked; grant access afresh if needed.")
    return redirect("accounts:access")


def _history_filter(request):
    form = HistoryForm(request.GET)
    if not form.is_valid():
        return form, None
    grants = AccessGrant.objects.select_related("user", "team", "granted_by", "revoked_by", "confirmed_by")
    if form.cleaned_data["user"]:
        grants = grants.filter(user=form.cleaned_data["user"])
    if form.cleaned_data["team"]:
        grants = grants.filter(team=form.cleaned_data["team"])
    return form, grants.order_by("granted_at", "id")


@require_GET
@role_required(Role.ADMIN)
def access_history(request):
    """Every grant and revocation for one person or one team (or everyone), oldest first."""
    form, grants = _history_filter(request)
    if grants is None:
        return render(request, "accounts/access_history.html", {"form": form, "events": []}, status=400)
    events = []
    for grant in grants[:EXPORT_MAX_ROWS]:
        events.append({"at": grant.granted_at, "what": "Granted", "grant": grant, "by": grant.granted_by, "reason": grant.reason})
        if grant.revoked_at:
            events.append({"at": grant.revoked_at, "what": "Revoked", "grant": grant, "by": grant.revoked_by or "system",
                           "reason": grant.revoke_reason})
    events.sort(key=lambda e: e["at"])
    return render(request, "accounts/access_history.html", {
        "form": form, "events": events, "person": form.cleaned_data["user"], "team": form.cleaned_data["team"],
    })


def _cell(value) -> str:
    # Spreadsheet formula injection: names and reasons are typed by people.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@require_GET
@role_required(Role.ADMIN)
def access_export(request):
    """The access list and its history as CSV: every line, active or revoked, for the filter given."""
    form, grants = _history_filter(request)
    if grants is None:
        return HttpResponseBadRequest("Choose a person or team from the list.", content_type="text/plain")
    audit_event_record(action="access.export", actor=request.user, ip=client_ip(request), details={
        "user": form.cleaned_data["user"].get_username() if form.cleaned_data["user"] else None,
        "team": form.cleaned_data["team"].name if form.cleaned_data["team"] else None,
    })
    writer = csv.writer(_Echo())

    def when(value):
        return timezone.localtime(value).isoformat() if value else ""

    def rows():
        yield writer.writerow(["user", "team", "role", "reason", "granted_by", "granted_at", "expires_on",
                               "confirmed_by", "confirmed_at", "revoked_by", "revoked_at", "revoke_reason", "state"])
        for g in grants[:EXPORT_MAX_ROWS].iterator(chunk_size=1000):
            state = "active" if g.is_active else ("revoked" if g.revoked_at else "expired")
            revoked_by = g.revoked_by.get_username() if g.revoked_by else ("system" if g.revoked_at else "")
            yield writer.writerow([_cell(v) for v in (
                g.user.get_username(), g.team.name, g.role, g.reason,
                g.granted_by.get_username() if g.granted_by else "", when(g.granted_at), g.expires_on or "",
                g.confirmed_by.get_username() if g.confirmed_by else "", when(g.confirmed_at),
                revoked_by, when(g.revoked_at), g.revoke_reason, state,
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="access-list-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


# Re-authentication before sensitive actions (accounts/reauth.py).


@sensitive_post_parameters("password", "code")
@login_required
def reauth(request):
    """Give the password again, or a code from the authenticator app, before a sensitive action."""
    next_path = safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    error = ""
    with_code = has_totp_device(request.user)
    if request.method == "POST":
        password = request.POST.get("password", "")
        code = request.POST.get("code", "")
        confirmed_by = ""
        if password:
            user = authenticate(request, username=request.user.get_username(), password=password)
            confirmed_by = "password" if user is not None and user.pk == request.user.pk else ""
            error = "" if confirmed_by else "That password is not right."
        elif code and with_code:
            try:
                code_verify(request=request, user=request.user, code=code, allow_recovery=False)
                confirmed_by = "code"
            except CodeRefused as refusal:
                error = str(refusal)
        else:
            error = "Enter your password" + (" or a code from your authenticator app." if with_code else ".")
        if confirmed_by:
            with transaction.atomic():
                authentication_renewed(request.session)
                audit_event_record(action="reauthenticated", actor=request.user, ip=client_ip(request),
                                   details={"with": confirmed_by})
            return HttpResponseRedirect(next_path or "/")
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "accounts/reauth.html", {"next": next_path, "error": error, "with_code": with_code},
                  status=400 if error else 200)


# Two-factor resets, for a person who lost their phone (accounts/two_factor.py).


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def totp_reset(request):
    form = TotpResetForm(request.POST)
    if not form.is_valid():
        return _access_page(request, reset_form=form, status=400)
    person = form.cleaned_data["user"]
    totp_device_remove(user=person, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request),
                       keep_session_key=request.session.session_key if person.pk == request.user.pk else None)
    messages.success(request, f"Two-factor sign-in reset for {person}: they set up a new authenticator when they next sign in.")
    return redirect("accounts:access")


# Invitations (accounts/invitations.py).


def _invite_page(request, *, form=None, status=200):
    context = {"form": form or InviteForm(), "pending": pending_invitations(), "days": settings.EARSHOT_INVITATION_DAYS}
    return render(request, "accounts/invite.html", context, status=status)


@role_required(Role.ADMIN)
def invite(request):
    if request.method in ("GET", "HEAD"):
        return _invite_page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    return _invite_post(request)


@recent_auth_required
def _invite_post(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _invite_page(request, form=form, status=400)
    data = form.cleaned_data
    try:
        person = user_invite(
            username=data["username"], email=data["email"], first_name=data["first_name"], last_name=data["last_name"],
            team=data["team"], role=data["role"], reason=data["reason"], invited_by=request.user, ip=client_ip(request),
        )
    except (AccessRefused, ValueError) as error:
        form.add_error(None, str(error))
        return _invite_page(request, form=form, status=400)
    messages.success(request, f"Invitation sent to {person.email}; the link works once, for {settings.EARSHOT_INVITATION_DAYS} days.")
    return redirect("accounts:access")


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def invitation_resend_view(request, user_id):
    person = get_object_or_404(User, pk=user_id)
    try:
        invitation_resend(user=person, resent_by=request.user, ip=client_ip(request))
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Invitation sent again to {person.email}; the new link works once, for "
                                  f"{settings.EARSHOT_INVITATION_DAYS} days.")
    return redirect("accounts:invite")


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def invitation_withdraw_view(request, user_id):
    person = get_object_or_404(User, pk=user_id)
    try:
        revoked = invitation_withdraw(
            user=person, withdrawn_by=request.user, reason=request.POST.get("reason", ""), ip=client_ip(request)
        )
    except ValueError as error:
        messages.error(request, str(error))
    else:
        grants = f" and {revoked} grant{'' if revoked == 1 else 's'} revoked" if revoked else ""
        messages.success(request, f"Invitation to {person.get_username()} withdrawn{grants}: its links no longer work.")
    return redirect("accounts:invite")


@sensitive_post_parameters("new_password1", "new_password2")
def invitation_accept_view(request, uidb64, token):
    """Set a first password from an invitation link. Open to anyone holding a good link."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    person = invited_user(uidb64)
    if person is None or not invitation_tokens.check_token(person, token):
        return render(request, "accounts/invitation_invalid.html", status=400)
    form = SetPasswordForm(person, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if invitation_accept(user=person, token=token, password=form.cleaned_data["new_password1"], ip=client_ip(request)):
            messages.success(request, "Your password is set. Sign in with it now.")
            return redirect("accounts:login")
        return render(request, "accounts/invitation_invalid.html", status=400)
    return render(request, "accounts/invitation_accept.html", {"form": form, "person": person},
                  status=400 if form.errors else 200)
