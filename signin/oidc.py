"""OpenID Connect login through mozilla-django-oidc, with IAMWatch's rules on top of the library's flow (state, nonce,
PKCE, the ID token's signature against the provider's JWKS):

- the endpoints come from the issuer's discovery document, read once a process;
- the ID token must name the configured issuer and this client as its audience (the library checks neither);
- a login is its issuer and subject (SsoIdentity), never its e-mail or user name;
- its role and account scope come from the groups claim at every login (roles.py); a login with no mapped group is
  refused, and the page says which groups are expected;
- the provider's MFA (`amr`/`acr`) counts as IAMWatch's second factor; the session ends after
  IAMWATCH_OIDC_SESSION_HOURS; logout ends the provider's session too where it offers `end_session_endpoint`.
"""

from __future__ import annotations

import functools
import logging
import urllib.parse
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify, import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from signin.middleware import EXPIRES_SESSION_KEY
from signin.models import SsoIdentity
from signin.roles import Refused, apply_groups, judge_groups
from staff.trail import record_change
from staff.twofactor import IDP_MFA_SESSION_KEY

REFUSED_SESSION_KEY = "signin_refused"
LOGGER = logging.getLogger(__name__)
# mozilla-django-oidc's settings that the discovery document answers.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",  # nosec B105 - a metadata key, not a secret
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


@functools.cache
def discovery(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID Provider metadata (/.well-known/openid-configuration), read once a process."""
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ImproperlyConfigured(f"IAMWATCH_OIDC_ISSUER: no discovery document at {url}: {exc}") from None
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ImproperlyConfigured(
            f"IAMWATCH_OIDC_ISSUER: the discovery document at {url} names issuer {document.get('issuer')!r}"
        )
    missing = [key for key in DISCOVERED.values() if not document.get(key)]
    if missing:
        raise ImproperlyConfigured(f"IAMWATCH_OIDC_ISSUER: the discovery document lacks {', '.join(missing)}")
    return dict(document)


def setting(attr: str, *args: Any) -> Any:
    """mozilla-django-oidc's settings, the endpoints from the discovery document (none without an issuer)."""
    if attr in DISCOVERED:
        try:
            return discovery(settings.IAMWATCH_OIDC_ISSUER)[DISCOVERED[attr]] if settings.IAMWATCH_OIDC_ISSUER else ""
        except ImproperlyConfigured:
            return ""  # the views say so (_Configured); a backend without endpoints signs nobody in
    return import_from_settings(attr, *args)


class _Configured:
    """Single sign-on's pages answer 404 while no provider is configured."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not settings.IAMWATCH_OIDC_ISSUER:
            raise Http404("single sign-on is not configured (IAMWATCH_OIDC_ISSUER)")
        try:
            discovery(settings.IAMWATCH_OIDC_ISSUER)
        except ImproperlyConfigured as exc:  # the provider down or misconfigured: say so, in one line
            LOGGER.warning("single sign-on unavailable: %s", exc)
            request.session[REFUSED_SESSION_KEY] = {"unavailable": str(exc)}
            return HttpResponseRedirect(settings.LOGIN_REDIRECT_URL_FAILURE)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class SsoRequestView(_Configured, OIDCAuthenticationRequestView):
    get_settings = staticmethod(setting)


class SsoCallbackView(_Configured, OIDCAuthenticationCallbackView):
    get_settings = staticmethod(setting)


def has_mfa(claims: dict[str, Any]) -> bool:
    amr = claims.get("amr") or []
    amr = [amr] if isinstance(amr, str) else amr
    accepted = set(settings.IAMWATCH_OIDC_MFA_AMR)
    return bool(accepted.intersection(str(a) for a in amr)) or str(claims.get("acr") or "") in set(settings.IAMWATCH_OIDC_MFA_ACR)


class SsoBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, deciding who a login is and what it may do by IAMWatch's rules (module)."""

    get_settings = staticmethod(setting)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        """The library's flow; a provider that refuses the code (used already, or not this request's PKCE verifier) or
        cannot be reached is a failed sign-in, not a server error."""
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as exc:
            LOGGER.warning("single sign-on failed at the provider: %s", " ".join(str(exc).split())[:300])
            return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)  # signature (JWKS), expiry, nonce
        if str(payload.get("iss", "")).rstrip("/") != settings.IAMWATCH_OIDC_ISSUER:
            raise SuspiciousOperation(f"ID token from issuer {payload.get('iss')!r}, not {settings.IAMWATCH_OIDC_ISSUER!r}")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation(f"ID token for audience {audience!r}, not this client")
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token for several audiences without this client as its authorized party")
        if not payload.get("sub"):
            raise SuspiciousOperation("ID token without a subject")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The userinfo endpoint's claims under the ID token's (which decide: iss, sub, amr, acr); the two must be of
        one subject (OpenID Connect Core 5.3.2)."""
        info: dict[str, Any] = super().get_userinfo(access_token, id_token, payload)
        if info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("the userinfo endpoint answered for another subject than the ID token's")
        return {**info, **{k: v for k, v in payload.items() if v not in (None, "", [])}}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub")) and bool(claims.get("iss"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return get_user_model().objects.filter(
            sso_identity__issuer=str(claims["iss"]).rstrip("/"), sso_identity__subject=str(claims["sub"])
        )

    def _judged(self, claims: dict[str, Any]) -> Any:
        try:
            return judge_groups(claims)
        except Refused as refused:
            record_change(
                actor=f"sso:{claims.get('sub')}", action="sso.refused", target=f"subject {claims.get('sub')} of {claims.get('iss')}",
                after={"issuer": claims.get("iss"), "subject": claims.get("sub"), "groups": refused.groups, "why": str(refused)},
            )  # fmt: skip
            self.request.session[REFUSED_SESSION_KEY] = {"groups": refused.groups, "why": str(refused)}
            raise SuspiciousOperation(str(refused)) from None

    def create_user(self, claims: dict[str, Any]) -> Any:
        judged = self._judged(claims)
        model = get_user_model()
        base = str(claims.get("preferred_username") or str(claims.get("email") or "").split("@")[0] or claims["sub"])[:120]
        username, n = base, 1
        while model.objects.filter(username=username).exists():
            n += 1
            username = f"{base}-{n}"
        user = model(username=username, email=str(claims.get("email") or "")[:254])
        user.first_name = str(claims.get("given_name") or "")[:150]
        user.last_name = str(claims.get("family_name") or "")[:150]
        user.set_unusable_password()  # signs in through the provider only
        user.save()
        SsoIdentity.objects.create(user=user, issuer=str(claims["iss"]).rstrip("/"), subject=str(claims["sub"]))
        record_change(
            actor=f"sso:{claims['sub']}", action="sso.user_created", target=f"user {username}",
            after={"issuer": claims["iss"], "subject": claims["sub"], "email": user.email},
        )  # fmt: skip
        return self._signed_in(user, claims, judged)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        return self._signed_in(user, claims, self._judged(claims))

    def _signed_in(self, user: Any, claims: dict[str, Any], judged: Any) -> Any:
        apply_groups(user=user, claims=claims, judged=judged)
        session = self.request.session
        session[EXPIRES_SESSION_KEY] = (timezone.now() + timedelta(hours=settings.IAMWATCH_OIDC_SESSION_HOURS)).timestamp()
        session[IDP_MFA_SESSION_KEY] = has_mfa(claims)
        session.pop(REFUSED_SESSION_KEY, None)
        return user


def provider_logout_url(request: HttpRequest) -> str:
    """RP-initiated logout: the provider's end_session_endpoint with the ID token as hint, back to the login page; the
    login page where the provider offers none."""
    back = absolutify(request, settings.LOGOUT_REDIRECT_URL if settings.LOGOUT_REDIRECT_URL.startswith("/") else "/login/")
    end = discovery(settings.IAMWATCH_OIDC_ISSUER).get("end_session_endpoint") if settings.IAMWATCH_OIDC_ISSUER else None
    id_token = request.session.get("oidc_id_token")
    if not end or not id_token:
        return back
    query = urllib.parse.urlencode(
        {"id_token_hint": id_token, "post_logout_redirect_uri": back, "client_id": settings.OIDC_RP_CLIENT_ID}
    )
    return f"{end}{'&' if '?' in end else '?'}{query}"
