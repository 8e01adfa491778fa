"""Real servers for the integration tests, started on loopback by the test setup and stopped after it."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: run its binaries as the postgres system user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 and a free port; yields its DATABASE_URL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make install` (Debian package postgresql)")
    bindir = Path(found[-1]).parent
    datadir = Path(tempfile.mkdtemp(prefix="iamwatch-pg-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    port = free_port()
    log = datadir / "server.log"
    try:
        subprocess.run(
            _as_postgres(
                [str(bindir / "initdb"), "-D", str(datadir / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-h 127.0.0.1 -p {port} -k {datadir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-o", options, "-l", str(log), "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        try:
            yield f"postgres://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-m", "immediate", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
            )
    finally:
        shutil.rmtree(datadir, ignore_errors=True)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0, interval: float = 0.05) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def redis(port: int = 0) -> Iterator[str]:
    """A Redis server on 127.0.0.1 and `port` (default: a free one), nothing saved to disk; yields its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server is not installed: run `make install` (Debian package redis-server)")
    port = port or free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _port_open(port), "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


@contextlib.contextmanager
def moto_server(*, load_managed_policies: bool = True, port: int = 0) -> Iterator[str]:
    """moto's AWS fake on 127.0.0.1 and `port` (default: a free one), with AWS managed policies such as
    AdministratorAccess; yields its URL."""
    port = port or free_port()
    binary = Path(sys.executable).parent / "moto_server"
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true" if load_managed_policies else "false"}
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: _port_open(port), "moto_server", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@contextlib.contextmanager
def celery_worker(env: dict[str, str], *, concurrency: int = 1, name: str = "w1") -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` process for the project, in its own process group (so a test can kill it outright)."""
    log = Path(tempfile.mkdtemp(prefix="iamwatch-worker-")) / "worker.log"
    argv = [
        str(Path(sys.executable).parent / "celery"), "-A", "iamwatch", "worker", "--loglevel=INFO", f"--concurrency={concurrency}",
        "--pool=prefork", f"--hostname={name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    try:
        wait_for(lambda: b"ready." in log.read_bytes() or process.poll() is not None, "celery worker", timeout=60)
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited: {log.read_text()[-2000:]}")
        process.log = log  # type: ignore[attr-defined]
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class OidcProvider:
    """A running test OpenID Connect provider (tests/oidcprovider): its issuer, and its users and client to set."""

    def __init__(self, issuer: str, env: dict[str, str]) -> None:
        self.issuer = issuer
        self.env = env

    def _seed(self, command: str, payload: object) -> None:
        import json

        subprocess.run(
            [sys.executable, "-m", "tests.oidcprovider.seed", command, json.dumps(payload)],
            cwd=Path(__file__).resolve().parent.parent, env=self.env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def users(self, *specs: dict[str, object]) -> None:
        """Create or change users: username, password, email, groups, mfa (see tests/oidcprovider/seed.py)."""
        self._seed("users", list(specs))

    def client(self, client_id: str, client_secret: str, redirect_uris: list[str], post_logout_redirect_uris: list[str]) -> None:
        self._seed(
            "client",
            {"client_id": client_id, "client_secret": client_secret, "redirect_uris": redirect_uris, "post_logout_redirect_uris": post_logout_redirect_uris},
        )


@contextlib.contextmanager
def oidc_provider() -> Iterator[OidcProvider]:
    """django-oauth-toolkit's OpenID Connect provider (tests/oidcprovider) in its own gunicorn process on 127.0.0.1 and a
    free port, with a fresh RSA signing key and database; yields it (issuer http://127.0.0.1:PORT/o)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    root = Path(__file__).resolve().parent.parent
    folder = Path(tempfile.mkdtemp(prefix="iamwatch-oidc-"))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/o"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "PYTHONPATH": str(root),
        "DJANGO_SETTINGS_MODULE": "tests.oidcprovider.settings", "PROVIDER_DB": str(folder / "provider.sqlite3"),
        "PROVIDER_KEY_FILE": str(folder / "key.pem"), "PROVIDER_ISSUER": issuer,
    }  # fmt: skip
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v", "0"], cwd=root, env=env, check=True, timeout=120)
    log = (folder / "provider.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "8", "tests.oidcprovider.wsgi"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: _port_open(port), "the OpenID Connect provider", timeout=60)
        yield OidcProvider(issuer, env)
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
