"""Reading the operator's configuration from environment variables.

Every setting an operator may change is read here, once, so that the README's table of
variables and the code cannot drift apart: `VARIABLES` is the table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str


VARIABLES = [
    Variable("GUICHET_ENV", "production",
             "production, development (the demo) or test. Production refuses unsafe settings."),
    Variable("SECRET_KEY", "", "At least 50 random characters. Required in production."),
    Variable("BASE_URL", "http://127.0.0.1:8000",
             "Public address of Guichet, used in links sent to members. https:// in production."),
    Variable("ALLOWED_HOSTS", "", "Extra host names, comma-separated (the host of BASE_URL is always allowed)."),
    Variable("DATABASE_URL", "sqlite:///var/guichet.sqlite3",
             "sqlite:///path or postgres://user:password@host:5432/name"),
    Variable("REDIS_URL", "", "redis://host:6379/0. Required when several nodes share the load."),
    Variable("EMAIL_URL", "mailbox:",
             "smtp://user:password@host:25, smtp+starttls://...:587, smtps://...:465, or mailbox: "
             "(keep messages in the outbox only, for the demo)."),
    Variable("EMAIL_FROM", "Guichet <noreply@localhost>", "Default sender; an organisation's policy may override it."),
    Variable("SMS_URL", "mailbox:",
             "https://token@provider.example/send (JSON POST {to, text, sender}) or mailbox:"),
    Variable("POSTAL_URL", "mailbox:",
             "file:///var/spool/guichet/letters (PDF letters for the print shop) or mailbox:"),
    Variable("DATA_DIR", "var", "Folder for the SQLite database and other local files."),
    Variable("POLICY_DIR", "policies/organisations", "Folder of the organisations' policy files."),
    Variable("PASSWORD_ARGON2_TIME_COST", "2", "argon2id iterations (OWASP: 2 with 19 MiB)."),
    Variable("PASSWORD_ARGON2_MEMORY_KIB", "19456", "argon2id memory in KiB."),
    Variable("PASSWORD_ARGON2_PARALLELISM", "1", "argon2id lanes."),
    Variable("SESSION_IDLE_MINUTES", "15", "A member's session ends after this much inactivity."),
    Variable("SESSION_MAX_HOURS", "8", "A member's session ends this long after sign-in, whatever happens."),
    Variable("TRUSTED_PROXY_COUNT", "0",
             "How many reverse proxies stand before Guichet (to read the client address from X-Forwarded-For)."),
    Variable("LOG_FORMAT", "text", "text or json."),
    Variable("CAPTCHA_DIFFICULTY", "2000",
             "Work asked of a browser by the self-hosted proof-of-work CAPTCHA (about 1 s at 2000)."),
    Variable("METRICS_ALLOWED_IPS", "127.0.0.1,::1", "Client addresses allowed to read /metrics."),
    Variable("OUTBOX_LEASE_SECONDS", "120",
             "How long a worker holds a message it delivers; after a worker dies, another one takes the message "
             "over after this long. Keep it well above the slowest delivery (SMTP times out after 20 s)."),
]

_DEFAULTS = {v.name: v.default for v in VARIABLES}


def get(name: str) -> str:
    """The variable's value, or its documented default."""
    return os.environ.get(name, _DEFAULTS[name]).strip()


def get_int(name: str) -> int:
    raw = get(name)
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError([f"{name} must be a whole number, not {raw!r}."]) from None


class ConfigurationError(Exception):
    """Raised at start-up with every problem found, so an operator fixes them in one go."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "Guichet refuses to start with these settings:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def production_problems(*, secret_key: str, base_url: str, email_url: str, sms_url: str,
                        postal_url: str, database_url: str) -> list[str]:
    """What makes these settings unsafe for production; empty when they are fine."""
    problems = []
    if len(secret_key) < 50 or len(set(secret_key)) < 5:
        problems.append("SECRET_KEY must be set to at least 50 random characters "
                        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(64))').")
    if urlsplit(base_url).scheme != "https":
        problems.append(f"BASE_URL must start with https:// (now {base_url!r}): "
                        "members' passwords and codes must never travel in clear.")
    for name, value in (("EMAIL_URL", email_url), ("SMS_URL", sms_url), ("POSTAL_URL", postal_url)):
        if value.startswith("mailbox:"):
            problems.append(f"{name} is 'mailbox:', which only keeps messages for the demo mailbox: "
                            "set a real delivery address.")
    if database_url.startswith("sqlite") and os.environ.get("GUICHET_ALLOW_SQLITE_IN_PRODUCTION") != "1":
        problems.append("DATABASE_URL points to SQLite: use PostgreSQL in production, or set "
                        "GUICHET_ALLOW_SQLITE_IN_PRODUCTION=1 for a single small node.")
    return problems


def data_dir() -> Path:
    path = Path(get("DATA_DIR"))
    path.mkdir(parents=True, exist_ok=True)
    return path
