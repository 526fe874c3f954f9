"""Admin pages for platforms: credentials, channels and monthly spend caps.

Admins only. Every change is audited in its service; secrets are never rendered.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import role_required
from accounts.models import Role
from accounts.reauth import recent_auth_required
from governance.services import client_ip
from listening.channels import channel_save
from listening.credentials import (
    CREDENTIAL_KEYS,
    PER_INSTANCE,
    CredentialUnreadable,
    credential_check,
    credential_delete as credential_remove,
    credential_save,
    credential_values,
    keys_for,
    takes_credentials,
)
from listening.forms import ChannelForm, CredentialForm, SpendCapForm
from listening.harvest import platform_label
from listening.models import Channel, PlatformCredential
from listening.spend import is_metered, month_totals, spend_caps, spend_cap_set, spend_state

admin_only = role_required(Role.ADMIN)


def _key_summary(credential: PlatformCredential) -> list[tuple[str, str]]:
    """(label, what to show) per key: "set" for a secret, never its value."""
    try:
        stored = credential_values(credential)
    except CredentialUnreadable:
        return [("Keys", "cannot be decrypted with EARSHOT_SECRETS_KEY: replace them")]
    summary = []
    for key in keys_for(credential.platform):
        value = stored.get(key.name, "")
        summary.append((key.label, ("set" if value else "not set") if key.secret else (value or "not set")))
    return summary


@require_GET
@admin_only
def platforms(request):
    credentials = list(PlatformCredential.objects.all())
    now = timezone.now()
    totals, caps = month_totals(now=now), spend_caps()
    sections = []
    for platform in (p for p in CREDENTIAL_KEYS if takes_credentials(p)):
        mine = [c for c in credentials if c.platform == platform]
        sections.append(
            {
                "platform": platform,
                "label": platform_label(platform),
                "credentials": [{"credential": c, "keys": _key_summary(c)} for c in mine],
                "can_add": platform in PER_INSTANCE or not mine,
            }
        )
    metered = sorted(set(settings.EARSHOT_PRICE_PER_READ) | set(settings.EARSHOT_MONTHLY_READ_LIMITS))
    spend = [
        {"state": spend_state(p, totals=totals, caps=caps), "form": SpendCapForm(initial={"monthly_cap": caps.get(p)}), "platform": p}
        for p in metered
    ]
    return render(request, "listening/platforms.html", {"sections": sections, "spend": spend})


@require_http_methods(["GET", "POST"])
@admin_only
@recent_auth_required
def credential_new(request, platform):
    if not takes_credentials(platform):
        raise Http404("This platform takes no credentials.")
    existing = PlatformCredential.objects.filter(platform=platform).first()
    if existing is not None and platform not in PER_INSTANCE:
        return redirect("listening:credential_edit", credential_id=existing.pk)
    form = CredentialForm(request.POST or None, platform=platform)
    if request.method == "POST" and form.is_valid():
        credential = credential_save(
            platform=platform, base_url=form.cleaned_data.get("base_url", ""), values=form.values,
            actor=request.user, ip=client_ip(request),
        )
        messages.success(request, f"Saved the {credential}. Use “Test connection” to check it.")
        return redirect("listening:platforms")
    return render(request, "listening/credential_form.html", {"form": form, "platform_label": platform_label(platform)})


@require_http_methods(["GET", "POST"])
@admin_only
@recent_auth_required
def credential_edit(request, credential_id):
    credential = get_object_or_404(PlatformCredential, pk=credential_id)
    try:
        form = CredentialForm(request.POST or None, platform=credential.platform, credential=credential)
    except CredentialUnreadable:
        # Keys stored under a key no longer configured: start afresh with blank ones.
        credential.secrets = ""
        form = CredentialForm(request.POST or None, platform=credential.platform, credential=credential)
    if request.method == "POST" and form.is_valid():
        credential_save(
            platform=credential.platform, values=form.values, credential=credential, actor=request.user, ip=client_ip(request)
        )
        messages.success(request, f"Saved the {credential}.")
        return redirect("listening:platforms")
    return render(
        request,
        "listening/credential_form.html",
        {"form": form, "credential": credential, "platform_label": credential.get_platform_display()},
    )


@require_POST
@admin_only
@recent_auth_required
def credential_delete(request, credential_id):
    credential = get_object_or_404(PlatformCredential, pk=credential_id)
    if request.POST.get("confirm") != "delete":
        return _unconfirmed("Use the Delete button to delete a credential.")
    label = str(credential)
    credential_remove(credential=credential, actor=request.user, ip=client_ip(request))
    messages.success(request, f"Deleted the {label}.")
    return redirect("listening:platforms")


def _unconfirmed(message: str) -> HttpResponseBadRequest:
    # Only the page's own button says which action it is: a stray or forged POST changes nothing.
    return HttpResponseBadRequest(message, content_type="text/plain")


@require_POST
@admin_only
def credential_test(request, credential_id):
    credential = get_object_or_404(PlatformCredential, pk=credential_id)
    if request.POST.get("confirm") != "test":
        return _unconfirmed("Use the Test connection button to test a credential.")
    worked, message = credential_check(credential=credential, actor=request.user, ip=client_ip(request))
    if worked:
        messages.success(request, f"{credential.get_platform_display()}: connected. {message}")
    else:
        messages.error(request, f"{credential.get_platform_display()}: {message}")
    return redirect("listening:platforms")


@require_POST
@admin_only
def spend_cap_edit(request, platform):
    if not is_metered(platform):
        raise Http404("This platform does not charge for reads.")
    form = SpendCapForm(request.POST)
    if form.is_valid():
        spend_cap_set(platform=platform, monthly_cap=form.cleaned_data["monthly_cap"], actor=request.user, ip=client_ip(request))
        messages.success(request, f"Saved the monthly cap for {platform_label(platform)}.")
    else:
        messages.error(request, f"{platform_label(platform)}: " + " ".join(form.errors.get("monthly_cap", ["that is not an amount"])))
    return redirect("listening:platforms")


@require_GET
@admin_only
def channel_list(request):
    return render(request, "listening/channel_list.html", {"channels": Channel.objects.all()})


@require_http_methods(["GET", "POST"])
@admin_only
def channel_edit(request, channel_id=None):
    channel = get_object_or_404(Channel, pk=channel_id) if channel_id is not None else None
    form = ChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        saved = channel_save(form=form, actor=request.user, ip=client_ip(request))
        messages.success(request, f"Saved the channel {saved}.")
        return redirect("listening:channels")
    return render(request, "listening/channel_form.html", {"form": form, "channel": channel})
