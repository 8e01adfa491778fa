"""manage.py scope_user: restrict a user to some accounts, change it, lift it; every change in the trail."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from accounts.models import AccountScope, AwsAccount
from accounts.selectors import visible_accounts
from accounts.services import account_create
from staff.models import ChangeRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(db: None) -> list[AwsAccount]:
    return [account_create(account_id=f"{n}" * 12, name=f"account {n}", naming_preset="initial_lastname") for n in (1, 2, 3)]


def scope_user(*args: str) -> str:
    out = io.StringIO()
    call_command("scope_user", *args, stdout=out)
    return out.getvalue().strip()


def visible_ids(username: str) -> list[str]:
    user = User.objects.get(username=username)  # a fresh object, as each request loads one
    return sorted(visible_accounts(user).values_list("account_id", flat=True))


def test_restrict_change_and_lift_a_scope(fleet: list[AwsAccount]) -> None:
    User.objects.create_user("bob")
    assert scope_user("bob") == "bob: no scope, sees every account"

    printed = scope_user("bob", "--account", "111111111111", "--account", "222222222222", "--reason", "payments team")
    assert printed == "bob: only 111111111111, 222222222222 (payments team)"
    assert visible_ids("bob") == ["111111111111", "222222222222"]

    scope_user("bob", "--account", "333333333333", "--reason", "moved to platform")
    assert visible_ids("bob") == ["333333333333"]
    assert AccountScope.objects.count() == 1

    assert scope_user("bob", "--clear") == "bob: sees every account"
    assert visible_ids("bob") == ["111111111111", "222222222222", "333333333333"]

    scopes = ChangeRecord.objects.filter(action__startswith="accountscope.")
    trail = list(scopes.order_by("pk").values_list("actor", "action", "before", "after"))
    assert [(actor, action) for actor, action, _, _ in trail] == [
        ("manage.py scope_user", "accountscope.added"),
        ("manage.py scope_user", "accountscope.changed"),
        ("manage.py scope_user", "accountscope.removed"),
    ]
    assert trail[1][2] == {"reason": "payments team", "accounts": ["account 1 (111111111111)", "account 2 (222222222222)"]}
    assert trail[1][3] == {"reason": "moved to platform", "accounts": ["account 3 (333333333333)"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody", "--clear"), "no user 'nobody'"),
        (("bob", "--account", "999999999999", "--reason", "x"), "no registered AWS account 999999999999"),
        (("bob", "--account", "111111111111"), "an account scope needs a reason"),
        (("bob", "--account", "111111111111", "--reason", "x", "--clear"), "give either --account or --clear"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(fleet: list[AwsAccount], args: tuple[str, ...], message: str) -> None:
    User.objects.create_user("bob")
    records = ChangeRecord.objects.count()
    with pytest.raises(CommandError, match=message):
        scope_user(*args)
    assert not AccountScope.objects.exists() and ChangeRecord.objects.count() == records
