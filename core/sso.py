"""Single sign-on with OpenID Connect (mozilla-django-oidc): who a signed-in person is, and which roles they hold.

A person is matched to a user by their e-mail address (case-insensitive), or created at their first sign-in with a
username from `preferred_username` (else their e-mail), made unique. Their roles are their identity-provider groups
(the OIDC_GROUPS_CLAIM claim: a list, or one string) as the admins map them (SsoGroupRole), set again at every
sign-in: a person taken out of an IdP group loses its role the next time they sign in. Django groups that are not
roles are left alone, and single sign-on never makes anyone a superuser or staff.
"""

from __future__ import annotations

import logging
import re

import jwt
import requests
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .models import SsoGroupRole
from .roles import ROLES

logger = logging.getLogger(__name__)

USERNAME_MAX = 150
NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")


def idp_groups(claims: dict) -> list[str]:
    """The person's groups from the groups claim: a list of names, or a single name."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return [group.strip() for group in value if isinstance(group, str) and group.strip()]


def mapped_roles(groups: list[str]) -> set[str]:
    return set(SsoGroupRole.objects.filter(group__in=groups, role__in=ROLES).values_list("role", flat=True))


def sync_roles(user, groups: list[str]) -> tuple[set[str], set[str]]:
    """Give `user` exactly the roles their IdP groups map to; their other Django groups stay. Returns (added,
    removed)."""
    wanted = mapped_roles(groups)
    held = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    added, removed = wanted - held, held - wanted
    if added:
        # get_or_create: the roles' groups come from a data migration, which a flushed test database lacks.
        user.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in sorted(added)))
    if removed:
        user.groups.remove(*Group.objects.filter(name__in=removed))
    user.__dict__.pop("_revops_roles", None)  # the per-request cache of core.roles.user_roles
    return added, removed


def unique_username(claims: dict, model) -> str:
    wanted = claims.get("preferred_username") or claims.get("email") or claims.get("sub") or "user"
    base = NOT_IN_USERNAME.sub("-", str(wanted))[: USERNAME_MAX - 8] or "user"
    username, n = base, 1
    while model.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


class SsoBackend(OIDCAuthenticationBackend):
    """The authorization-code flow's last step: the IdP's claims -> a user with the roles their groups map to."""

    def authenticate(self, request, **kwargs):
        # Only the callback of our own flow: never a username and password (the login form, the API's token
        # endpoint), whatever the query string of that request holds.
        if not settings.SSO_ENABLED or "username" in kwargs or "password" in kwargs or "nonce" not in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, jwt.PyJWTError, SuspiciousOperation, ValueError, KeyError) as exc:
            # The IdP refused the code, answered badly or sent a token that does not verify: no sign-in, and the
            # login page says so (not a server error).
            logger.warning("sso: sign-in refused: %s", exc)
            return None

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo endpoint's claims over the ID token's (an IdP may send the groups in either)."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            claims.update(super().get_userinfo(access_token, id_token, payload))
        return claims

    def verify_claims(self, claims) -> bool:
        # An address the IdP itself says is unverified must not match someone else's account.
        return bool(claims.get("sub")) and bool(claims.get("email")) and claims.get("email_verified") is not False

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(email__iexact=claims["email"])

    def create_user(self, claims):
        user = self.UserModel.objects.create_user(
            unique_username(claims, self.UserModel),
            email=claims["email"],
            first_name=str(claims.get("given_name") or "")[:150],
            last_name=str(claims.get("family_name") or "")[:150],
        )  # with an unusable password: this person signs in through the IdP only
        logger.info("sso: created user %s for %s", user.username, claims["email"])
        return self._with_roles(user, claims)

    def update_user(self, user, claims):
        return self._with_roles(user, claims)

    def _with_roles(self, user, claims):
        groups = idp_groups(claims)
        with transaction.atomic():
            added, removed = sync_roles(user, groups)
        if added or removed:
            logger.info(
                "sso: roles of %s from IdP groups %s: added %s, removed %s",
                user.username,
                groups,
                sorted(added) or "-",
                sorted(removed) or "-",
            )
        return user


class SsoStartView(OIDCAuthenticationRequestView):
    """/oidc/authenticate/: off to the IdP (404 while single sign-on is not configured)."""

    def get(self, request):
        if not settings.SSO_ENABLED:
            raise Http404("Single sign-on is not configured.")
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """/oidc/callback/: back from the IdP. A refused sign-in returns to the login page, which says so."""

    @property
    def failure_url(self):
        return reverse("login") + "?sso=failed"

    def get(self, request):
        if not settings.SSO_ENABLED:
            raise Http404("Single sign-on is not configured.")
        return super().get(request)
