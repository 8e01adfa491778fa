"""Seed and change the test provider's database: `python -m tests.oidcprovider.seed COMMAND JSON` with
DJANGO_SETTINGS_MODULE=tests.oidcprovider.settings (tests/servers.OidcProvider runs it).

- users [{"username", "password", "email", "groups": [...], "mfa": bool}]: create or update users and their groups;
- client {"client_id", "client_secret", "redirect_uris": [...], "post_logout_redirect_uris": [...]}: register the
  relying party (confidential, authorization code, RS256, no consent screen)."""

from __future__ import annotations

import json
import sys


def main(command: str, payload: str) -> None:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    data = json.loads(payload)
    if command == "users":
        for spec in data:
            user, _ = User.objects.get_or_create(username=spec["username"])
            user.email = spec.get("email", "")
            user.first_name, user.last_name = spec.get("given_name", ""), spec.get("family_name", "")
            user.set_password(spec.get("password", "password"))
            user.save()
            names = [*spec.get("groups", []), *(["amr:mfa"] if spec.get("mfa") else [])]
            user.groups.set([Group.objects.get_or_create(name=n)[0] for n in names])
    elif command == "client":
        Application.objects.filter(client_id=data["client_id"]).delete()
        Application.objects.create(
            name="IAMWatch",
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(data["redirect_uris"]),
            post_logout_redirect_uris=" ".join(data.get("post_logout_redirect_uris", [])),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
