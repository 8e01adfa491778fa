"""The provider's claims: e-mail, user name, names, the groups claim (the user's Django groups) and `amr` (["pwd",
"mfa"] for a member of the group "amr:mfa", else ["pwd"]), in the ID token and at the userinfo endpoint."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    oidc_claim_scope = None  # every claim whatever the scopes asked

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        names = sorted(g.name for g in user.groups.all())
        return {
            "email": user.email,
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": [n for n in names if not n.startswith("amr:")],
            "amr": ["pwd", "mfa"] if "amr:mfa" in names else ["pwd"],
        }
