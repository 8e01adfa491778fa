"""The reviews' shared fixture: the sample account with its report imported."""

from __future__ import annotations

import pytest

from accounts.models import AwsAccount
from audits.services import report_import
from tests.conftest import SAMPLE_T


@pytest.fixture
def account(sandbox: AwsAccount, sample_bytes: bytes) -> AwsAccount:
    report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    return sandbox
