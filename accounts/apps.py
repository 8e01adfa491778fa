"""accounts: the AWS accounts of the fleet, how to reach them, and who may see which.

It owns AwsAccount (a role ARN and ExternalId to assume, never a long-lived secret), STS sessions and the
connection test, AWS Organizations discovery (`add_account`, `sync_organization`), the naming standard each
account's IAM users are held to (presets, custom rules and exemptions: the account names its standard and
`add_account --naming-standard` sets it, so the standards live here, below people and audits that read them),
and account scopes (`scope_user`): the accounts a staff login may see, loaded with the login by
accounts.backends. It imports staff only.
"""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "AWS accounts"
