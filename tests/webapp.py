"""IAMWatch served by a real gunicorn on loopback, signed into through its login page: shared by the integration
tests and the benchmarks that drive the web process from outside."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import requests

from tests import servers

ROOT = Path(__file__).resolve().parent.parent


def runner(username: str, password: str) -> None:
    """A viewer who may also start runs, in the database the web process uses."""
    from django.contrib.auth.models import Group, Permission, User

    user = User.objects.create_user(username, password=password)
    user.user_permissions.add(Permission.objects.get(codename="add_auditrun"))
    user.groups.add(Group.objects.get(name="viewer"))


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, timeout: int | None = None, stderr: bool = False
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """One gunicorn worker serving iamwatch.wsgi with `env`; yields its base URL and the process, whose stderr is a pipe
    to read with stderr_so_far() if `stderr`, else discarded (a pipe nobody reads would fill and stall the server)."""
    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    command += ["--timeout", str(timeout)] if timeout else []
    web = subprocess.Popen(
        [*command, "iamwatch.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if stderr else subprocess.DEVNULL,
        text=True,
    )
    try:
        servers.wait_for(lambda: _answers(base), "gunicorn", timeout=60, interval=0.2)
        yield base, web
    finally:
        web.terminate()
        try:
            web.wait(timeout=60)
        except subprocess.TimeoutExpired:
            web.kill()
            raise


def signed_in(base: str, username: str, password: str) -> requests.Session:
    """A browser-like session signed in through the login page (no second factor: IAMWATCH_REQUIRE_2FA=false)."""
    browser = requests.Session()
    browser.get(f"{base}/login/", timeout=10)
    login = {"username": username, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    answer = browser.post(f"{base}/login/", data=login, allow_redirects=False, timeout=10)
    if answer.status_code != 302:
        raise AssertionError(f"{username} could not sign in: HTTP {answer.status_code}")
    return browser


def stderr_so_far(process: subprocess.Popen[str]) -> str:
    import os

    assert process.stderr is not None
    os.set_blocking(process.stderr.fileno(), False)
    return process.stderr.read() or ""


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/login/", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False
