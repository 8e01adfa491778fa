"""Request bodies are refused by size before Django reads them (and before an upload is spooled to disk).

A view that takes a file says how large with @accepts_upload(bytes); any other view takes what a form needs
(DATA_UPLOAD_MAX_MEMORY_SIZE), and a request with no login (the login page) at most ANONYMOUS_BODY. A request whose
Content-Length is over the route's limit is answered 413 with one line; its body is never read. The proxy in front
should refuse at the largest limit too (README, deployment: nginx `client_max_body_size`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

ANONYMOUS_BODY = 64 * 1024  # a login form, with room to spare
MULTIPART_SLACK = 1024 * 1024  # the form's other fields and the multipart boundaries around the files

V = TypeVar("V", bound=Callable[..., Any])


def accepts_upload(max_bytes: int) -> Callable[[V], V]:
    """Mark a view as taking uploads of at most `max_bytes` (the files together); apply it outermost."""

    def mark(view: V) -> V:
        view.max_body = max_bytes + MULTIPART_SLACK  # type: ignore[attr-defined]
        return view

    return mark


def body_limit(request: HttpRequest) -> int:
    if not request.user.is_authenticated:
        return ANONYMOUS_BODY
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return ANONYMOUS_BODY  # answered 404 anyway
    return int(getattr(view, "max_body", settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


class BodySizeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        said = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(said)
        except ValueError:
            return HttpResponse("Content-Length is not a number.\n", status=400, content_type="text/plain; charset=utf-8")
        if length > 0:
            limit = body_limit(request)
            if length > limit:
                return HttpResponse(
                    f"The request body ({length:,} bytes) is larger than this page accepts ({limit:,} bytes).\n",
                    status=413,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
