"""Naming-standard pages with user regexes: matched in linear time (RE2), refused clearly when RE2 cannot take them."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.models import AwsAccount, NamingStandard
from accounts.naming import MAX_CUSTOM_REGEX, NamingRuleError, compile_rule
from audits.services import report_import
from tests.conftest import SAMPLE_T
from tests.reports import build_report, root_row, user_row

pytestmark = pytest.mark.django_db
EVIL = "(x+)+y"  # exponential for a backtracking engine on "xxx...x"


def test_a_catastrophic_regex_is_matched_in_linear_time() -> None:
    rule = compile_rule("custom", custom_regex=EVIL)
    assert not rule.fits("x" * 64) and rule.fits("xxy")


@pytest.mark.timeout(30)
def test_previewing_a_catastrophic_regex_answers_at_once(sandbox: AwsAccount, personas: dict[str, Client]) -> None:
    report_import(account=sandbox, content=build_report(root_row(), user_row("x" * 64)), generated_at=SAMPLE_T)
    started = time.monotonic()
    response = personas["admin"].post("/standards/new/", {"name": "evil", "preset": "custom", "custom_regex": EVIL, "action": "preview"})
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and [s.name for s in response.context["preview"]] == ["x" * 64]
    assert elapsed < 1.0  # RE2 takes microseconds; Python's re would take longer than the universe has left
    assert not NamingStandard.objects.filter(name="evil").exists()


@pytest.mark.parametrize(
    "regex", [r"(a)\1", r"(?=J)[A-Z]+", r"(?<!x)y", r"(?P<n>a)(?P=n)"]
)
def test_syntax_re2_does_not_take_is_refused_with_a_clear_message(regex: str, personas: dict[str, Client]) -> None:
    with pytest.raises(NamingRuleError, match="linear time"):
        compile_rule("custom", custom_regex=regex)
    response = personas["admin"].post("/standards/new/", {"name": "bad", "preset": "custom", "custom_regex": regex})
    assert response.status_code == 200 and "linear time" in response.content.decode()
    assert not NamingStandard.objects.filter(name="bad").exists()


def test_a_regex_longer_than_the_limit_is_refused() -> None:
    compile_rule("custom", custom_regex="a" * MAX_CUSTOM_REGEX)
    with pytest.raises(NamingRuleError, match=f"longer than {MAX_CUSTOM_REGEX}"):
        compile_rule("custom", custom_regex="a" * (MAX_CUSTOM_REGEX + 1))
