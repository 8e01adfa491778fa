"""One app per domain, imports one way (README, Layout): import-linter holds the direction in `make lint`, and
these tests prove that it fails the build on an import that runs the wrong way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.conftest import client_for

ROOT = Path(__file__).resolve().parent.parent
APPS = ("staff", "accounts", "signin", "people", "audits", "cloudtrail", "identitycenter", "reviews", "dashboard", "demo")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env={"PYTHONPATH": str(tree)}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the apps and the contracts, to break on purpose."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _add_import(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = tree / module.replace(".", "/") / "__init__.py"
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")


def test_the_apps_are_installed_bottom_layer_first() -> None:
    ours = [app for app in settings.INSTALLED_APPS if app in APPS]
    assert ours == list(APPS)


def test_every_app_says_what_it_owns_and_may_import() -> None:
    for app in APPS:
        doc = (ROOT / app / "apps.py").read_text().split('"""')[1]
        assert doc.startswith(f"{app}: ") and "import" in doc, app


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    done = _lint_imports(tree)
    assert done.returncode == 0, done.stdout
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("audits.services", "from reviews.selectors import review_cadence", "audits.services -> reviews.selectors"),
        ("staff.trail", "from accounts.models import AwsAccount", "staff.trail -> accounts.models"),
        ("accounts.services", "import people.directory", "accounts.services -> people.directory"),
        ("people.models", "from audits.models import Finding", "people.models -> audits.models"),
        ("audits.services", "from cloudtrail.models import RootEvent", "audits.services -> cloudtrail.models"),
        ("cloudtrail.services", "from reviews.selectors import review_since", "cloudtrail.services -> reviews.selectors"),
        ("identitycenter.access", "import cloudtrail.models", "identitycenter.access -> cloudtrail.models"),  # siblings
        # A domain app's pages read nothing above it, not even selectors: the composed pages are the dashboard's.
        ("people.views", "from audits.selectors import access_rows", "people.views -> audits.selectors"),
        ("audits.views", "from reviews.selectors import review_since", "audits.views -> reviews.selectors"),
        ("accounts.views", "from audits.selectors import standard_preview", "accounts.views -> audits.selectors"),
        ("reviews.views", "from dashboard.views import overview", "reviews.views -> dashboard.views"),
        ("dashboard.views", "from demo.simulator import simulate_account", "dashboard.views -> demo.simulator"),
        # Within the checks, the base imports no catalog (the circle api <-> base is gone).
        ("audits.checks.base", "from audits.checks.api import can_become_admin", "audits.checks.base -> audits.checks.api"),
        ("audits.checks.root", "from audits.checks.users import shared_account", "audits.checks.root -> audits.checks.users"),
        ("reviews.services", "from demo.simulator import simulate_account", "reviews.services -> demo.simulator"),
    ],
)
def test_an_import_up_the_layers_fails_the_lint(tree: Path, module: str, line: str, broken: str) -> None:
    _add_import(tree, module, line)
    done = _lint_imports(tree)
    assert done.returncode != 0
    assert broken in done.stdout


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("audits.checks.root", "from django.db import models"),
        ("audits.checks.users", "import audits.models"),
        ("audits.report", "import boto3"),
        ("people.matching", "from people.models import Person"),
        ("accounts.naming", "from django.conf import settings"),
    ],
)
def test_django_or_the_orm_in_the_pure_rules_fails_the_lint(tree: Path, module: str, line: str) -> None:
    _add_import(tree, module, line)
    done = _lint_imports(tree)
    assert done.returncode != 0
    assert "are pure" in done.stdout.split("Broken contracts")[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/accounts/changerecord/", "/admin/staff/changerecord/"),
        ("/admin/accounts/person/?q=smith", "/admin/people/person/?q=smith"),
        ("/admin/accounts/ownerlink/3/change/", "/admin/people/ownerlink/3/change/"),
        ("/admin/audits/signoff/7/change/", "/admin/reviews/signoff/7/change/"),
        ("/admin/audits/review/", "/admin/reviews/review/"),
    ],
)
def test_a_bookmarked_admin_page_of_a_moved_model_still_opens(old: str, new: str) -> None:
    superuser = client_for(User.objects.create_superuser("root-admin", password="correct horse battery"))
    response = superuser.get(old)
    assert response.status_code == 302
    assert response["Location"] == new
