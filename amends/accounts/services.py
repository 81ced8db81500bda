from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.models import ApiToken, StaffProfile, Team
from amends.core.exceptions import ApplicationError

TOKEN_PREFIX = "amd_"  # noqa: S105  # a public prefix, not a secret


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def team_get_or_create(*, name: str) -> Team:
    name = name.strip()
    if not name or len(name) > 100:
        raise ApplicationError(
            "A team needs a name of at most 100 characters.", code="invalid_team", status=422
        )
    team, _ = Team.objects.get_or_create(name=name)
    return team


@transaction.atomic
def staff_create(
    *,
    username: str,
    role: str,
    team_name: str | None = None,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a staff user with a role (and team); admins also get Django admin access."""
    if role not in Role.values:
        raise ApplicationError(
            f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.",
            code="invalid_role",
            status=422,
        )
    if User.objects.filter(username=username).exists():
        raise ApplicationError(f"User {username!r} already exists.", code="user_exists", status=409)
    team = team_get_or_create(name=team_name) if team_name else None
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=role in (Role.ADMIN, Role.MANAGER),
        is_superuser=role == Role.ADMIN,
    )
    if password:
        try:  # the configured validators (AUTH_PASSWORD_VALIDATORS), as the admin applies them
            validate_password(password, user=user)
        except ValidationError as exc:
            raise ApplicationError(
                "The password is too weak.",
                code="weak_password",
                status=422,
                detail={"password": list(exc.messages)},
            ) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise ApplicationError(
            "The user details are not valid.",
            code="invalid_user",
            status=422,
            detail=exc.message_dict,
        ) from exc
    user.save()
    StaffProfile.objects.create(user=user, team=team, role=role)
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Return the token row and the raw key, which is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], key_hash=token_hash(raw))
    return token, raw


def api_token_authenticate(*, raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user", "user__staff")
        .filter(key_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute to keep reads from turning into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    return token


@transaction.atomic
def staff_time_zone_set(*, user: User, time_zone: str) -> StaffProfile:
    """A staff member's own time zone for the pages they read; blank: the organisation's."""
    profile = StaffProfile.objects.select_for_update().get(user=user)
    profile.time_zone = time_zone.strip()
    try:
        profile.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ApplicationError(
            "That is not a time zone.",
            code="invalid_input",
            status=422,
            detail={"time_zone": ["Pick a time zone from the list."]},
        ) from exc
    profile.save(update_fields=["time_zone", "updated_at"])
    return profile
