"""What runs the project outside the test process: compose services, settings from the environment."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from tests.conftest import ROOT

VENV_BIN = Path(sys.executable).parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def app_services() -> dict[str, list[str]]:
    """Services built from this project, with their commands split into argv lists."""
    result = {}
    for name, service in COMPOSE["services"].items():
        if service.get("build"):
            command = service["command"]
            argv = shlex.split(command)
            if argv[:2] == ["sh", "-c"]:
                argv = shlex.split(argv[2])
            result[name] = argv
    return result


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "SECRET_KEY": "test", **env}
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=environment, timeout=120)


def test_compose_has_web_worker_beat_redis_and_postgres() -> None:
    assert set(COMPOSE["services"]) >= {"web", "worker", "beat", "redis", "postgres"}
    assert set(app_services()) == {"web", "worker", "beat", "root-events"}
    # The root events consumer only with its profile: a deployment without a queue starts without it.
    assert COMPOSE["services"]["root-events"]["profiles"] == ["push"]
    assert (ROOT / "Dockerfile").is_file()


@pytest.mark.parametrize("service", sorted(app_services()))
def test_every_compose_command_exists_in_the_project(service: str) -> None:
    argv = app_services()[service]
    for part in " ".join(argv).split("&&"):
        words = part.split()
        if words[0] == "python" and words[1] == "manage.py":
            assert words[2] in get_commands(), part
        elif words[0] == "gunicorn":
            app = words[-1]
            done = run([str(VENV_BIN / "gunicorn"), "--check-config", app])
            assert done.returncode == 0, done.stderr
        elif words[0] == "celery":
            assert words[1:3] == ["-A", "iamwatch"] and words[3] in {"worker", "beat"}
            done = run([str(VENV_BIN / "celery"), "-A", "iamwatch", "report"])
            assert done.returncode == 0 and "iamwatch" in done.stdout, done.stderr
        else:
            pytest.fail(f"unknown command in compose service {service}: {part}")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IAMWATCH_ROOT_RECENT_USE_DAYS", "0", "must be a positive number of days"),
        ("IAMWATCH_ACCESS_KEY_ROTATION_DAYS", "ninety", "invalid literal"),
        ("IAMWATCH_COMPANY_INITIALS", "S-F", "letters only"),
        ("IAMWATCH_KNOWN_NETWORKS", "10.0.0.0/8,10.0.0.0/33", "IAMWATCH_KNOWN_NETWORKS: not a network (CIDR): '10.0.0.0/33'"),
        ("DATABASE_URL", "nosuchdb://x", "nosuchdb"),
        ("IAMWATCH_ROOT_EVENTS_QUEUE_URL", "iamwatch-root-events", "not an SQS queue URL"),
        ("IAMWATCH_OIDC_ROLE_GROUPS", "security-admins=root", "'security-admins' maps to 'root', not one of viewer, reviewer, admin"),
        ("IAMWATCH_OIDC_ROLE_GROUPS", "security-admins", "expected GROUP=VALUE pairs separated by commas, not 'security-admins'"),
        ("IAMWATCH_OIDC_SCOPE_GROUPS", "payments=12345", "'payments': '12345' is not an account id, env:NAME or *"),
        ("IAMWATCH_LOCAL_LOGIN", "nobody", "IAMWATCH_LOCAL_LOGIN must be all or superusers, not 'nobody'"),
        ("IAMWATCH_OIDC_ISSUER", "https://idp.example.com", "IAMWATCH_OIDC_CLIENT_ID must be set with IAMWATCH_OIDC_ISSUER"),
        ("IAMWATCH_OIDC_SESSION_HOURS", "0", "IAMWATCH_OIDC_SESSION_HOURS must be a positive number of hours"),
    ],
)
def test_a_bad_setting_fails_loudly_at_start(name: str, value: str, message: str) -> None:
    done = run([sys.executable, "manage.py", "check"], **{name: value})
    assert done.returncode != 0 and message in done.stderr


def test_thresholds_come_from_the_environment() -> None:
    code = "from django.conf import settings as s; print(s.IAMWATCH_PASSWORD_UNUSED_DAYS, s.IAMWATCH_ACCESS_KEY_UNUSED_DAYS)"
    done = run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code], IAMWATCH_PASSWORD_UNUSED_DAYS="60")
    assert done.stdout.split() == ["60", "45"], done.stderr


def test_debug_is_off_unless_asked_for() -> None:
    code = "from django.conf import settings as s; print(s.DEBUG)"
    assert run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code]).stdout.strip() == "False"


def test_check_deploy_is_clean_with_production_settings() -> None:
    import secrets

    production = {"SECRET_KEY": secrets.token_urlsafe(50), "SECURE_HTTPS": "true", "ALLOWED_HOSTS": "iamwatch.example.com"}
    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production)
    assert done.returncode == 0 and "no issues" in done.stdout, done.stderr


def test_check_deploy_flags_the_laptop_defaults() -> None:
    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], SECRET_KEY="short")
    assert done.returncode != 0 and "security.W009" in done.stderr and "security.W004" in done.stderr


def test_without_a_secret_key_it_refuses_to_start_unless_debugging() -> None:
    refused = run([sys.executable, "manage.py", "check"], SECRET_KEY="")
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1].endswith("SECRET_KEY is not set: set it to a long random value in the environment or .env (make install writes one)")
    assert run([sys.executable, "manage.py", "check"], SECRET_KEY="", DEBUG="true").returncode == 0


def test_a_secret_key_of_white_space_is_refused() -> None:
    refused = run([sys.executable, "manage.py", "check"], SECRET_KEY="   ")
    assert refused.returncode != 0 and refused.stderr.strip().splitlines()[-1].endswith("SECRET_KEY is only white space: set it to a long random value")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/services/x", True),
        ("http://localhost:8080/hook", True),
        ("http://127.0.0.1:9000/hook", True),
        ("http://localhost:@evil.example/hook", False),  # the host is evil.example
        ("http://127.0.0.1:@evil.example/hook", False),
        ("http://user@localhost/hook", False),
        ("http://evil.example/hook", False),
        ("ftp://localhost/hook", False),
        ("https:///nohost", False),
        ("https://hooks.example.com/a b", False),
    ],
)
def test_the_webhook_url_is_judged_on_the_host_it_really_names(url: str, ok: bool) -> None:
    from iamwatch.settings import _webhook_ok

    assert _webhook_ok(url) is ok


def test_a_webhook_that_hides_another_host_behind_loopback_refuses_the_start() -> None:
    refused = run([sys.executable, "manage.py", "check"], IAMWATCH_ALERT_WEBHOOK_URL="http://localhost:@evil.example/hook")
    assert refused.returncode != 0 and "IAMWATCH_ALERT_WEBHOOK_URL must be an https:// URL" in refused.stderr


def test_make_install_gives_a_checkout_its_own_secret_key_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=false\n")
    for _ in range(2):
        done = subprocess.run([str(ROOT / "scripts" / "ensure-secret-key"), str(env_file)], capture_output=True, text=True, check=True)
    lines = env_file.read_text().splitlines()
    keys = [line for line in lines if line.startswith("SECRET_KEY=")]
    assert lines[0] == "DEBUG=false" and len(keys) == 1 and len(keys[0]) > 60 and done.stdout == ""


def test_the_docker_build_context_leaves_out_secrets_and_local_data() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", "*.sqlite3", ".venv"} <= ignored


def test_the_web_process_freezes_what_it_loaded_before_its_first_request() -> None:
    """iamwatch.wsgi settles the heap (iamwatch.heap): the view modules are loaded and out of the collector's sight."""
    probe = (
        "import gc, sys; import iamwatch.wsgi; "
        "print(gc.get_freeze_count(), 'audits.views' in sys.modules, 'dashboard.views' in sys.modules)"
    )
    done = run([sys.executable, "-c", probe], DJANGO_DEBUG="false")
    frozen, audits_views, dashboard_views = done.stdout.split()
    assert done.returncode == 0, done.stderr
    assert int(frozen) > 100_000 and audits_views == dashboard_views == "True"
