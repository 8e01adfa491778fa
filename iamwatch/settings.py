"""IAMWatch settings: everything that varies between deployments comes from the environment.

Bad values fail loudly at start-up (ImproperlyConfigured) instead of being guessed.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# Never a key everybody knows: without one, IAMWatch refuses to start (`make install` writes a random one to .env for
# a local checkout; a deployment sets its own). Only DEBUG, on a developer's machine, gets a key for the process.
SECRET_KEY = env.str("SECRET_KEY", default="")
if SECRET_KEY and not SECRET_KEY.strip():
    raise ImproperlyConfigured("SECRET_KEY is only white space: set it to a long random value")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set it to a long random value in the environment or .env (make install writes one)"
        )
    from django.core.management.utils import get_random_secret_key

    SECRET_KEY = get_random_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "iamwatch.apps.IAMWatchAdminConfig",  # django.contrib.admin with IAMWatch's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # IAMWatch's apps, bottom layer first: each imports only the apps listed before it (README, Layout).
    "staff",
    "accounts",
    "signin",
    "people",
    "audits",
    "cloudtrail",
    "identitycenter",
    "reviews",
    "dashboard",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Nothing past the static files is kept by a browser or proxy cache (audit data, CSVs, evidence packs).
    "staff.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A body over the route's limit is refused before anything reads it (the CSRF check, an upload's spooling).
    "staff.uploads.BodySizeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Every view needs a login unless it is explicitly marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Reviewers and admins pass a second factor before any page (the admin included).
    "staff.twofactor.TwoFactorMiddleware",
    # A password an admin set is changed at the first login, after the second factor.
    "staff.passwords.PasswordChangeDueMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A single sign-on session ends after IAMWATCH_OIDC_SESSION_HOURS, whatever its activity.
    "signin.middleware.SsoSessionMiddleware",
    # Login throttling; last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out user or address before checking the password
    "accounts.backends.ScopedModelBackend",  # Django's ModelBackend, with the user's account scope in the same query
]
# Two-factor login (TOTP) for reviewers and admins; switch off only for a local demo.
IAMWATCH_REQUIRE_2FA = env.bool("IAMWATCH_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = "IAMWatch"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Password spraying (a few tries at many user names) from one address: this many failures, whatever the names,
# lock the address out for the cool-off too (staff.lockout).
AXES_HANDLER = "staff.lockout.AddressLimitHandler"
IAMWATCH_ADDRESS_FAILURE_LIMIT = env.int("IAMWATCH_ADDRESS_FAILURE_LIMIT", default=20)
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind the TLS proxy: how many proxies in front append to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for);
# the lockouts read the client's address from it (staff.addresses). 0: REMOTE_ADDR, the header ignored.
IAMWATCH_TRUSTED_PROXIES = env.int("IAMWATCH_TRUSTED_PROXIES", default=0)
if IAMWATCH_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("IAMWATCH_TRUSTED_PROXIES must be 0 or more")
AXES_CLIENT_IP_CALLABLE = "staff.addresses.client_address"

# No inline scripts or styles anywhere: htmx and the CSS come from /static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

ROOT_URLCONF = "iamwatch.urls"
WSGI_APPLICATION = "iamwatch.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "iamwatch.navigation.navigation",
                "signin.context.sso",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'iamwatch.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes a run.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    )
    # A file, not memory, so that a worker process in the integration tests sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_SQLITE_NAME", default=str(BASE_DIR / ".test-iamwatch.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "audits:overview"
LOGOUT_REDIRECT_URL = "login"
# Single sign-on with the company's identity provider (README, Single sign-on): OpenID Connect's authorization code
# flow with PKCE, state and nonce, through mozilla-django-oidc; the endpoints come from the issuer's discovery
# document (signin.oidc). A login is its issuer and subject; its role and account scope come from its groups.
IAMWATCH_OIDC_ISSUER = env.str("IAMWATCH_OIDC_ISSUER", default="").rstrip("/")
IAMWATCH_OIDC_PROVIDER_NAME = env.str("IAMWATCH_OIDC_PROVIDER_NAME", default="your identity provider")
IAMWATCH_OIDC_GROUPS_CLAIM = env.str("IAMWATCH_OIDC_GROUPS_CLAIM", default="groups")
IAMWATCH_OIDC_SESSION_HOURS = env.int("IAMWATCH_OIDC_SESSION_HOURS", default=8)
if IAMWATCH_OIDC_SESSION_HOURS <= 0:
    raise ImproperlyConfigured(f"IAMWATCH_OIDC_SESSION_HOURS must be a positive number of hours, not {IAMWATCH_OIDC_SESSION_HOURS}")
# The `amr` values (RFC 8176) and `acr` values that mean the provider's sign-in used a second factor.
IAMWATCH_OIDC_MFA_AMR = env.list("IAMWATCH_OIDC_MFA_AMR", default=["mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "sc"])
IAMWATCH_OIDC_MFA_ACR = env.list("IAMWATCH_OIDC_MFA_ACR", default=[])


def _pairs(name: str) -> dict[str, str]:
    """GROUP=VALUE,GROUP=VALUE (a value may itself hold | separators); refused in one line when malformed."""
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in env.str(name, default="").split(",")):
        if not item:
            continue
        group, sep, value = item.rpartition("=")
        if not sep or not group.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name}: expected GROUP=VALUE pairs separated by commas, not {item!r}")
        pairs[group.strip()] = value.strip()
    return pairs


# GROUP=ROLE, e.g. security-admins=admin,security-reviewers=reviewer,auditors=viewer (the highest role wins).
IAMWATCH_OIDC_ROLE_GROUPS = _pairs("IAMWATCH_OIDC_ROLE_GROUPS")
for _group, _role in IAMWATCH_OIDC_ROLE_GROUPS.items():
    if _role not in ("viewer", "reviewer", "admin"):
        raise ImproperlyConfigured(f"IAMWATCH_OIDC_ROLE_GROUPS: {_group!r} maps to {_role!r}, not one of viewer, reviewer, admin")
# GROUP=ACCOUNT|ACCOUNT|env:ENVIRONMENT, or GROUP=* (every account). Empty: SSO logins see every account.
IAMWATCH_OIDC_SCOPE_GROUPS = {group: value.split("|") for group, value in _pairs("IAMWATCH_OIDC_SCOPE_GROUPS").items()}
for _group, _targets in IAMWATCH_OIDC_SCOPE_GROUPS.items():
    for _target in _targets:
        if not (_target == "*" or _target.startswith("env:") or re.fullmatch(r"[0-9]{12}", _target)):
            raise ImproperlyConfigured(f"IAMWATCH_OIDC_SCOPE_GROUPS: {_group!r}: {_target!r} is not an account id, env:NAME or *")
# Password login: "all", or "superusers" only (break-glass) once everyone else signs in with the provider.
IAMWATCH_LOCAL_LOGIN = env.str("IAMWATCH_LOCAL_LOGIN", default="all")
if IAMWATCH_LOCAL_LOGIN not in ("all", "superusers"):
    raise ImproperlyConfigured(f"IAMWATCH_LOCAL_LOGIN must be all or superusers, not {IAMWATCH_LOCAL_LOGIN!r}")
if IAMWATCH_OIDC_ISSUER:
    if not re.fullmatch(r"https?://\S+", IAMWATCH_OIDC_ISSUER):
        raise ImproperlyConfigured(f"IAMWATCH_OIDC_ISSUER: not an issuer URL: {IAMWATCH_OIDC_ISSUER!r}")
    for _name in ("IAMWATCH_OIDC_CLIENT_ID", "IAMWATCH_OIDC_CLIENT_SECRET", "IAMWATCH_OIDC_ROLE_GROUPS"):
        if not env.str(_name, default=""):
            raise ImproperlyConfigured(f"{_name} must be set with IAMWATCH_OIDC_ISSUER (README, Single sign-on)")
    AUTHENTICATION_BACKENDS.append("signin.oidc.SsoBackend")
OIDC_RP_CLIENT_ID = env.str("IAMWATCH_OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("IAMWATCH_OIDC_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env.str("IAMWATCH_OIDC_SCOPES", default="openid email profile groups")
OIDC_RP_SIGN_ALGO = env.str("IAMWATCH_OIDC_SIGN_ALGO", default="RS256")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # for RP-initiated logout's id_token_hint
OIDC_TIMEOUT = 10
OIDC_OP_LOGOUT_URL_METHOD = "signin.oidc.provider_logout_url"
LOGIN_REDIRECT_URL_FAILURE = "/signin/refused/"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Behind HTTPS (production): secure cookies, redirect to HTTPS, HSTS.
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000) if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HTTPS and env.bool("SECURE_HSTS_PRELOAD", default=True)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},  # lockouts are warnings; routine bookkeeping is not news
}

# Celery: the embedded default runs tasks in-process (no broker); a fleet sets CELERY_TASK_ALWAYS_EAGER=false.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TRACK_STARTED = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A Redis outage does not stop the runs under way: they need AWS and the database, not the broker. Each finishes and is
# stored; its message, never acknowledged on the lost connection, comes back and finds the run done (a duplicate
# delivery does nothing). Cancelling them instead ended every run in flight "interrupted", with no retry.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TIMEZONE = "UTC"


def _positive(name: str, default: int, unit: str) -> int:
    value = env.int(name, default=default)
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be a positive number of {unit}, not {value}")
    return value


# Fetching from AWS.
# A run (assume role, generate, poll, fetch, store) is cut off after this many seconds.
IAMWATCH_RUN_TIME_LIMIT = _positive("IAMWATCH_RUN_TIME_LIMIT", 600, "seconds")
# In eager mode, runs started from a page go to this many threads of the web process (audits.background).
IAMWATCH_EAGER_THREADS = _positive("IAMWATCH_EAGER_THREADS", 4, "threads")
# How long to wait for AWS to generate a credential report before the run fails.
IAMWATCH_REPORT_MAX_WAIT = _positive("IAMWATCH_REPORT_MAX_WAIT", 120, "seconds")
# The first wait before asking again whether the report is ready (then doubling, up to 30 s).
IAMWATCH_REPORT_FIRST_POLL = env.float("IAMWATCH_REPORT_FIRST_POLL", default=1.0)
if not 0 < IAMWATCH_REPORT_FIRST_POLL <= 30:
    raise ImproperlyConfigured("IAMWATCH_REPORT_FIRST_POLL must be between 0 and 30 seconds")
# AWS regenerates a report at most every 4 hours: scheduled runs never fetch an account more often.
IAMWATCH_MIN_FETCH_INTERVAL_HOURS = _positive("IAMWATCH_MIN_FETCH_INTERVAL_HOURS", 4, "hours")
# Attempts per AWS call (botocore adaptive retry mode: backs off on throttling).
IAMWATCH_AWS_MAX_ATTEMPTS = _positive("IAMWATCH_AWS_MAX_ATTEMPTS", 8, "attempts")
# A run that failed for a reason that may pass is tried again by a worker after about this x 1, 2, 4 seconds.
IAMWATCH_RETRY_BASE_SECONDS = _positive("IAMWATCH_RETRY_BASE_SECONDS", 30, "seconds")
# SIGTERM or Ctrl-C to a worker: runs under way may finish for this long, then each is failed "interrupted".
IAMWATCH_WORKER_SHUTDOWN_GRACE = _positive("IAMWATCH_WORKER_SHUTDOWN_GRACE", 30, "seconds")
# The role name assumed in member accounts discovered through AWS Organizations.
IAMWATCH_MEMBER_ROLE_NAME = env.str("IAMWATCH_MEMBER_ROLE_NAME", default="IAMWatchAudit")
IAMWATCH_MEMBER_EXTERNAL_ID = env.str("IAMWATCH_MEMBER_EXTERNAL_ID", default="")
# The account tag sync_organization reads an account's environment from (else its OU path): accounts.environments.
IAMWATCH_ENVIRONMENT_TAG = env.str("IAMWATCH_ENVIRONMENT_TAG", default="environment")
# An unacknowledged task goes back to the queue after this long (a killed worker's run is retried).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * IAMWATCH_RUN_TIME_LIMIT),
    # Sweep for messages of dead workers every interval x throttle seconds.
    "unacked_restore_interval": env.int("CELERY_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
}


def _positive_days(name: str, default: int) -> int:
    return _positive(name, default, "days")


# Alerts: e-mail through Django's backend (EMAIL_URL, e.g. smtp+tls://user:pass@smtp.example.com:587),
# to the account's security distribution list or this organisation default; optionally a chat webhook.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="iamwatch@localhost")
IAMWATCH_ALERT_EMAIL = env.str("IAMWATCH_ALERT_EMAIL", default="")
# Root emails must be aliases on the security distribution list: "aws-root+{account_id}@example.com" or "@example.com".
IAMWATCH_ROOT_EMAIL_RULE = env.str("IAMWATCH_ROOT_EMAIL_RULE", default="")
if IAMWATCH_ROOT_EMAIL_RULE and "@" not in IAMWATCH_ROOT_EMAIL_RULE:
    raise ImproperlyConfigured("IAMWATCH_ROOT_EMAIL_RULE must be an address pattern or a domain such as @example.com")
IAMWATCH_ALERT_WEBHOOK_URL = env.str("IAMWATCH_ALERT_WEBHOOK_URL", default="")


def _webhook_ok(url: str) -> bool:
    """https to any host, or plain http to loopback only, judged on the host the URL really names (no user info:
    in http://localhost:@evil.example/ the host is evil.example)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host or "@" in parts.netloc or any(c.isspace() for c in url):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1"))


if IAMWATCH_ALERT_WEBHOOK_URL and not _webhook_ok(IAMWATCH_ALERT_WEBHOOK_URL):
    raise ImproperlyConfigured("IAMWATCH_ALERT_WEBHOOK_URL must be an https:// URL (plain http only on loopback, no user info)")

# Check thresholds (DESIGN.md check catalog); durations are exact multiples of 24 h.
IAMWATCH_ROOT_RECENT_USE_DAYS = _positive_days("IAMWATCH_ROOT_RECENT_USE_DAYS", 30)
IAMWATCH_PASSWORD_UNUSED_DAYS = _positive_days("IAMWATCH_PASSWORD_UNUSED_DAYS", 45)
IAMWATCH_ACCESS_KEY_UNUSED_DAYS = _positive_days("IAMWATCH_ACCESS_KEY_UNUSED_DAYS", 45)
IAMWATCH_ACCESS_KEY_ROTATION_DAYS = _positive_days("IAMWATCH_ACCESS_KEY_ROTATION_DAYS", 90)
# Root activity (CloudTrail): the company's networks as CIDRs, comma-separated; a root event from outside any of
# them makes a root session critical ("outside the known networks"). Unset: no address counts as outside.
IAMWATCH_KNOWN_NETWORKS = env.list("IAMWATCH_KNOWN_NETWORKS", default=[])
for _cidr in IAMWATCH_KNOWN_NETWORKS:
    try:
        ipaddress.ip_network(_cidr.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"IAMWATCH_KNOWN_NETWORKS: not a network (CIDR): {_cidr!r}") from None
# Root events from CloudTrail's LookupEvents in every fetch run (the role needs cloudtrail:LookupEvents and
# ec2:DescribeRegions); the regions to read, comma-separated (empty: every region the account has enabled).
IAMWATCH_CLOUDTRAIL_LOOKUP = env.bool("IAMWATCH_CLOUDTRAIL_LOOKUP", default=True)
IAMWATCH_CLOUDTRAIL_REGIONS = env.list("IAMWATCH_CLOUDTRAIL_REGIONS", default=[])
# The longest the CloudTrail step of one run may take, in seconds: the regions not read by then are said not read.
IAMWATCH_CLOUDTRAIL_DEADLINE = _positive("IAMWATCH_CLOUDTRAIL_DEADLINE", 60, "seconds")
# Root use within minutes (README): the SQS queue the EventBridge rules fill (deploy/root-events.yaml) and its
# dead-letter queue, read by `manage.py consume_root_events`; the rule's name and region the connection test looks
# for (events:DescribeRule). Empty queue URL: no push path, the connection test does not look for the rule.
IAMWATCH_ROOT_EVENTS_QUEUE_URL = env.str("IAMWATCH_ROOT_EVENTS_QUEUE_URL", default="")
IAMWATCH_ROOT_EVENTS_DLQ_URL = env.str("IAMWATCH_ROOT_EVENTS_DLQ_URL", default="")
IAMWATCH_ROOT_EVENTS_RULE = env.str("IAMWATCH_ROOT_EVENTS_RULE", default="iamwatch-root-activity")
IAMWATCH_ROOT_EVENTS_RULE_REGION = env.str("IAMWATCH_ROOT_EVENTS_RULE_REGION", default="us-east-1")
# What an SQS queue URL looks like (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or a local endpoint's): one pattern
# for these settings and for consume_root_events' --queue-url and --dead-letter-url.
IAMWATCH_SQS_QUEUE_URL_PATTERN = r"https?://\S+/[0-9]{12}/[A-Za-z0-9_-]{1,80}"
for _url in (IAMWATCH_ROOT_EVENTS_QUEUE_URL, IAMWATCH_ROOT_EVENTS_DLQ_URL):
    if _url and not re.fullmatch(IAMWATCH_SQS_QUEUE_URL_PATTERN, _url):
        raise ImproperlyConfigured(f"not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME): {_url!r}")
# IAM Identity Center: the registered account (management or delegated administrator) and region that hold the
# organisation's instance; empty: Identity Center is not read. Production accounts may have at most this many
# people with administrator access through it.
IAMWATCH_IDENTITY_CENTER_ACCOUNT = env.str("IAMWATCH_IDENTITY_CENTER_ACCOUNT", default="")
if IAMWATCH_IDENTITY_CENTER_ACCOUNT and not re.fullmatch(r"[0-9]{12}", IAMWATCH_IDENTITY_CENTER_ACCOUNT):
    raise ImproperlyConfigured("IAMWATCH_IDENTITY_CENTER_ACCOUNT must be a 12-digit account id")
IAMWATCH_IDENTITY_CENTER_REGION = env.str("IAMWATCH_IDENTITY_CENTER_REGION", default="us-east-1")
IAMWATCH_SSO_MAX_ADMINS_PROD = _positive("IAMWATCH_SSO_MAX_ADMINS_PROD", 5, "people")
# Review sign-off: accepted risks expire at most this many days ahead; four-eyes needs a second reviewer.
IAMWATCH_ACCEPTANCE_MAX_DAYS = _positive_days("IAMWATCH_ACCEPTANCE_MAX_DAYS", 90)
IAMWATCH_REVIEW_FOUR_EYES = env.bool("IAMWATCH_REVIEW_FOUR_EYES", default=True)
# Four-eyes against a puppet: no login the preparer created, changed (a role), set the password of or reset the second
# factor of within this many days signs the review (read from the audit trail).
IAMWATCH_FOUR_EYES_COOLDOWN_DAYS = _positive_days("IAMWATCH_FOUR_EYES_COOLDOWN_DAYS", 30)
IAMWATCH_REVIEW_CADENCE_MONTHS = _positive("IAMWATCH_REVIEW_CADENCE_MONTHS", 1, "months")
IAMWATCH_REVIEW_MEETING_DAY = env.int("IAMWATCH_REVIEW_MEETING_DAY", default=5)
if not 1 <= IAMWATCH_REVIEW_MEETING_DAY <= 28:
    raise ImproperlyConfigured("IAMWATCH_REVIEW_MEETING_DAY must be a day of the month from 1 to 28")
IAMWATCH_REVIEW_MEETING_TIME = env.str("IAMWATCH_REVIEW_MEETING_TIME", default="10:00")
if not re.fullmatch(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]", IAMWATCH_REVIEW_MEETING_TIME):
    raise ImproperlyConfigured("IAMWATCH_REVIEW_MEETING_TIME must be HH:MM (UTC), e.g. 10:00")
IAMWATCH_REVIEW_MEETING_MINUTES = _positive("IAMWATCH_REVIEW_MEETING_MINUTES", 60, "minutes")

# The company's initials for the company_employee_id naming preset (SF1234).
IAMWATCH_COMPANY_INITIALS = env.str("IAMWATCH_COMPANY_INITIALS", default="")
if IAMWATCH_COMPANY_INITIALS and not IAMWATCH_COMPANY_INITIALS.isalpha():
    raise ImproperlyConfigured("IAMWATCH_COMPANY_INITIALS must be letters only, e.g. SF")
