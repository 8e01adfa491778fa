"""A body over the route's limit is refused before anything reads it (issue 28 point 9)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import AwsAccount
from staff.uploads import ANONYMOUS_BODY, MULTIPART_SLACK
from tests.conftest import client_for, member_of

pytestmark = pytest.mark.django_db


class Untouchable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args: object) -> bytes:
        raise AssertionError("the body was read")

    readline = read


def test_an_anonymous_300_mib_body_is_refused_unread(db: None) -> None:
    response = Client().post("/login/", b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(300 * 2**20), **{"wsgi.input": Untouchable()})
    assert response.status_code == 413
    assert response.content.decode() == f"The request body ({300 * 2**20:,} bytes) is larger than this page accepts ({ANONYMOUS_BODY:,} bytes).\n"


def test_a_logged_in_form_post_past_the_form_limit_is_refused_unread(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    response = client.post("/findings/", b"", content_type="application/x-www-form-urlencoded",
                           CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), **{"wsgi.input": Untouchable()})  # fmt: skip
    assert response.status_code == 413


def test_an_upload_route_takes_its_own_limit_and_no_more(sandbox: AwsAccount) -> None:
    from cloudtrail.forms import MAX_TRAIL_MB

    reviewer = client_for(member_of("reviewer", "rita"))
    limit = MAX_TRAIL_MB * 2**20 + MULTIPART_SLACK
    over = reviewer.post(f"/accounts/{sandbox.account_id}/cloudtrail", b"", content_type="multipart/form-data; boundary=x",
                         CONTENT_LENGTH=str(limit + 1), **{"wsgi.input": Untouchable()})  # fmt: skip
    assert over.status_code == 413 and f"({limit:,} bytes)" in over.content.decode()
    # Under it, the upload is read and answered as ever (here: not CloudTrail, one line, nothing stored).
    small = reviewer.post(f"/accounts/{sandbox.account_id}/cloudtrail", {"trail_files": [SimpleUploadedFile("x.json", b"{}")]}, follow=True)
    assert small.status_code == 200 and "Not imported: x.json: not CloudTrail records" in small.content.decode()


def test_a_content_length_that_is_not_a_number_is_a_400(db: None) -> None:
    assert Client().post("/login/", b"", content_type="text/plain", CONTENT_LENGTH="lots").status_code == 400
