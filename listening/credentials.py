"""Platform credentials: which keys each platform takes, encrypted at rest.

A `PlatformCredential` stores its keys as one Fernet token of their JSON, under
`settings.EARSHOT_SECRETS_KEY` (comma-separated keys: the first encrypts, all
decrypt, so keys rotate without downtime; `manage.py rotate_secrets` re-encrypts
every credential under the first). Secret values never leave this module except to
a source: pages show only that a secret is set.

There is one credential per platform, and one per instance for Mastodon. A blank
`base_url` means "the platform's configured base URL" (`EARSHOT_<PLATFORM>_BASE_URL`).
A Mastodon token is only ever sent to the instance it was issued by.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from listening.models import PlatformCredential


@dataclass(frozen=True)
class CredentialKey:
    name: str
    label: str
    secret: bool = True  # secrets are never shown again once saved
    required: bool = True
    help: str = ""


# The README's credential table: keep the two in step.
CREDENTIAL_KEYS: dict[str, tuple[CredentialKey, ...]] = {
    "x": (
        CredentialKey("bearer_token", "Bearer token", help="The app's bearer token, from the X developer portal."),
        CredentialKey(
            "user_id",
            "Own account's user id",
            secret=False,
            required=False,
            help="The organisation's numeric X user id, for the mentions channel.",
        ),
    ),
    "mastodon": (
        CredentialKey(
            "access_token",
            "Access token",
            help="From Preferences → Development → New application on the instance (read scope).",
        ),
    ),
    "bluesky": (
        CredentialKey("identifier", "Handle or DID", secret=False, help="The organisation's account, e.g. ico.org.uk."),
        CredentialKey("app_password", "App password", help="Settings → Privacy and security → App passwords."),
    ),
    "rss": (),
}
# Platforms that read nothing at all without a credential: their harvests wait for one.
CREDENTIAL_NEEDED = frozenset({"x", "bluesky"})
# Platforms where a credential belongs to one server (its base URL).
PER_INSTANCE = frozenset({"mastodon"})


class CredentialUnreadable(Exception):
    """A stored secret that none of the configured keys can decrypt."""


def keys_for(platform: str) -> tuple[CredentialKey, ...]:
    return CREDENTIAL_KEYS.get(platform, ())


def takes_credentials(platform: str) -> bool:
    return bool(keys_for(platform))


# --------------------------------------------------------------------------- encryption


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])


def _fernet() -> MultiFernet:
    return _fernet_for(settings.EARSHOT_SECRETS_KEY)


def secrets_encrypt(values: Mapping[str, str]) -> str:
    return _fernet().encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode()


def secrets_decrypt(token: str) -> dict[str, str]:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialUnreadable(
            "The stored secrets cannot be decrypted with EARSHOT_SECRETS_KEY: was a key removed before rotate_secrets ran?"
        ) from None


def credential_values(credential: PlatformCredential) -> dict[str, str]:
    return secrets_decrypt(credential.secrets) if credential.secrets else {}


def secrets_rotate() -> int:
    """Re-encrypt every credential under the first key. Returns how many."""
    from governance.services import audit_event_record

    fernet = _fernet()
    with transaction.atomic():
        credentials = list(PlatformCredential.objects.select_for_update().order_by("pk"))
        for credential in credentials:
            try:
                rotated = fernet.rotate(credential.secrets.encode()).decode()
            except InvalidToken:
                raise CredentialUnreadable(f"{credential} cannot be decrypted with any configured key.") from None
            PlatformCredential.objects.filter(pk=credential.pk).update(secrets=rotated)
        audit_event_record(action="credential.rotate", actor_label="rotate_secrets", details={"credentials": len(credentials)})
    return len(credentials)


# --------------------------------------------------------------------------- lookup


def normalise_base_url(url: str | None) -> str:
    """`https://Mastodon.Example/` → `https://mastodon.example`: one spelling per server."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def default_base_url(platform: str) -> str:
    return normalise_base_url(getattr(settings, f"EARSHOT_{platform.upper()}_BASE_URL", "") or "")


def credential_for(
    platform: str, *, base_url: str | None = None, credentials: Iterable[PlatformCredential] | None = None
) -> PlatformCredential | None:
    """The stored credential to use with `platform` at `base_url` (None: none fits).

    `credentials` lets a caller that has them all loaded (the dispatcher, the health
    page) look up without a query. A per-instance platform's credential fits only its
    own instance; elsewhere a blank base URL fits any.
    """
    if not takes_credentials(platform):
        return None
    if credentials is None:
        credentials = PlatformCredential.objects.filter(platform=platform)
    rows = [c for c in credentials if c.platform == platform]
    wanted = normalise_base_url(base_url) or default_base_url(platform)
    exact = [c for c in rows if normalise_base_url(c.base_url) == wanted]
    if exact:
        return exact[0]
    if platform in PER_INSTANCE:
        return None
    return next((c for c in rows if not c.base_url), None)


def harvest_target(
    platform: str, *, base_url: str = "", credentials: Iterable[PlatformCredential] | None = None
) -> tuple[str, PlatformCredential | None]:
    """(base URL, credential) a harvest reads with.

    A channel may name its Mastodon instance; otherwise a per-instance platform reads
    through the instance of its credential (the one at the configured base URL, or
    else the first one added), so adding a Mastodon credential is enough to harvest
    through it.
    """
    if credentials is None:
        credentials = list(PlatformCredential.objects.filter(platform=platform))
    rows = sorted((c for c in credentials if c.platform == platform), key=lambda c: c.pk)
    if base_url or platform not in PER_INSTANCE:
        url = normalise_base_url(base_url) or default_base_url(platform)
        return url, credential_for(platform, base_url=url, credentials=rows)
    at_default = credential_for(platform, base_url=default_base_url(platform), credentials=rows)
    chosen = at_default or (rows[0] if rows else None)
    return (normalise_base_url(chosen.base_url) if chosen and chosen.base_url else default_base_url(platform)), chosen


def stored_credentials(platform: str, *, base_url: str | None = None) -> dict[str, str]:
    """The decrypted keys stored for `platform` (at `base_url`, for Mastodon); {} if none."""
    credential = credential_for(platform, base_url=base_url)
    return credential_values(credential) if credential else {}


# --------------------------------------------------------------------------- changes


def credential_save(
    *,
    platform: str,
    values: Mapping[str, str],
    actor,
    base_url: str = "",
    credential: PlatformCredential | None = None,
    ip: str | None = None,
) -> PlatformCredential:
    """Add a credential, or replace some of its keys.

    A blank secret keeps the stored one; a blank non-secret key (an account id) clears
    it. Changing any key clears a failed state: the new keys get their chance. The
    audit row names the keys that changed, never their values.
    """
    from governance.services import audit_event_record

    specs = {key.name: key for key in keys_for(platform)}
    with transaction.atomic():
        created = credential is None
        if created:
            credential = PlatformCredential(platform=platform, base_url=normalise_base_url(base_url))
            stored = {}
        else:
            credential = PlatformCredential.objects.select_for_update().get(pk=credential.pk)
            try:
                stored = credential_values(credential)
            except CredentialUnreadable:
                stored = {}  # under a key no longer configured: the new keys replace them all
        merged = dict(stored)
        for name, value in values.items():
            if name not in specs:
                continue
            value = (value or "").strip()
            if value:
                merged[name] = value
            elif not specs[name].secret:
                merged.pop(name, None)
        changed = sorted(name for name in specs if merged.get(name) != stored.get(name))
        credential.secrets = secrets_encrypt(merged)
        if changed:
            credential.state, credential.last_error, credential.checked_at = PlatformCredential.State.UNTESTED, "", None
        credential.save()
        audit_event_record(
            action="credential.create" if created else "credential.replace",
            actor=actor,
            obj=credential,
            ip=ip,
            details={"platform": platform, "base_url": credential.base_url, "keys_changed": changed},
        )
    return credential


def credential_delete(*, credential: PlatformCredential, actor, ip: str | None = None) -> None:
    from governance.services import audit_event_record

    with transaction.atomic():
        audit_event_record(
            action="credential.delete",
            actor=actor,
            obj=credential,
            ip=ip,
            details={"platform": credential.platform, "base_url": credential.base_url},
        )
        credential.delete()


def redact(text: str, values: Mapping[str, str]) -> str:
    """`text` with every secret value in `values` blanked out: platform errors can echo a token."""
    secrets = {value for name, value in values.items() if value and len(value) >= 6 and _is_secret(name)}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "•••")
    return text


def _is_secret(name: str) -> bool:
    return any(key.name == name and key.secret for keys in CREDENTIAL_KEYS.values() for key in keys)


def credential_check(*, credential: PlatformCredential, actor, ip: str | None = None) -> tuple[bool, str]:
    """Ask the platform whether the stored keys work: (worked, what it said)."""
    from governance.services import audit_event_record
    from listening.sources import BadCredentials, HarvestError, get_source

    base_url, _ = harvest_target(credential.platform, base_url=credential.base_url, credentials=[credential])
    state, values = None, {}
    try:
        values = credential_values(credential)
        source = get_source(credential.platform, credentials=values, base_url=base_url)
        message, ok, state = source.check_connection(), True, PlatformCredential.State.OK
    except LookupError:
        message, ok = f"No source is installed for {credential.get_platform_display()} yet.", False
    except BadCredentials as error:
        message, ok, state = str(error), False, PlatformCredential.State.FAILED
    except (HarvestError, CredentialUnreadable) as error:
        message, ok = str(error), False
    message = redact(message, values)
    with transaction.atomic():
        if state is not None:
            PlatformCredential.objects.filter(pk=credential.pk).update(
                state=state, last_error="" if ok else message, checked_at=timezone.now()
            )
        audit_event_record(
            action="credential.test",
            actor=actor,
            obj=credential,
            ip=ip,
            details={"platform": credential.platform, "worked": ok, "message": message[:300]},
        )
    return ok, message


def credential_mark_failed(*, credential_id: int, error: str) -> None:
    """The platform refused the keys during a harvest: stop polling with them until replaced."""
    PlatformCredential.objects.filter(pk=credential_id).update(
        state=PlatformCredential.State.FAILED, last_error=error[:2000], checked_at=timezone.now()
    )
