"""Reading the operator's configuration from environment variables.

Every setting an operator may change is read here, once, so that the README's table of
variables and the code cannot drift apart: `VARIABLES` is the table.

Its messages are translated with the standard library's gettext, from this app's own catalogue
(locale/fr/LC_MESSAGES/django.mo): they are written while the settings load, before Django's
translation machinery can run. They speak the operator's language, GUICHET_LANGUAGE (French unless
the operator asks for English), as the `guichet` commands do (docs/decisions.md, "Deployment").
"""

from __future__ import annotations

import email.policy
import gettext
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str


VARIABLES = [
    Variable("GUICHET_ENV", "production",
             "production, development (the demo) or test. Production refuses unsafe settings."),
    Variable("GUICHET_LANGUAGE", "fr",
             "Language of what Guichet tells the operator (start-up errors, the guichet commands): fr or en. "
             "Members' pages and messages keep their own language (French by default)."),
    Variable("SECRET_KEY", "", "At least 50 random characters. Required in production."),
    Variable("BASE_URL", "http://127.0.0.1:8000",
             "Public address of Guichet, used in links sent to members. https:// in production."),
    Variable("ALLOWED_HOSTS", "", "Extra host names, comma-separated (the host of BASE_URL is always allowed)."),
    Variable("DATABASE_URL", "sqlite:///var/guichet.sqlite3",
             "sqlite:///path or postgres://user:password@host:5432/name (also postgresql://, pgsql://)."),
    Variable("REDIS_URL", "",
             "redis://host:6379/0, rediss://... (TLS) or unix:///path. Required when several nodes share the load."),
    Variable("EMAIL_URL", "mailbox:",
             "smtp://user:password@host:25, smtp+starttls://...:587, smtps://...:465, or mailbox: "
             "(keep messages in the outbox only, for the demo)."),
    Variable("EMAIL_FROM", "Guichet <noreply@localhost>", "Default sender; an organisation's policy may override it."),
    Variable("SMS_URL", "mailbox:",
             "https://token@provider.example/send (JSON POST {to, text, sender}) or mailbox:. "
             "http:// is refused in production (the token and the codes would travel in clear)."),
    Variable("POSTAL_URL", "mailbox:",
             "file:///var/spool/guichet/letters (PDF letters for the print shop; an absolute path) or mailbox:"),
    Variable("DATA_DIR", "var", "Folder for the SQLite database and other local files."),
    Variable("POLICY_DIR", "policies/organisations", "Folder of the organisations' policy files."),
    Variable("PASSWORD_ARGON2_TIME_COST", "2",
             "argon2id iterations, at least 1 (OWASP: 2 with 19 MiB). Production refuses less than OWASP's "
             "table: memory times iterations at least 35840 KiB (7168 KiB with 5, 19456 with 2, 47104 with 1)."),
    Variable("PASSWORD_ARGON2_MEMORY_KIB", "19456",
             "argon2id memory in KiB, at least 8 per lane; production refuses less than 7168."),
    Variable("PASSWORD_ARGON2_PARALLELISM", "1", "argon2id lanes, at least 1."),
    Variable("SESSION_IDLE_MINUTES", "15", "A member's session ends after this much inactivity (at least 1)."),
    Variable("SESSION_MAX_HOURS", "8",
             "A member's session ends this long after sign-in, whatever happens (at least 1)."),
    Variable("TRUSTED_PROXY_COUNT", "0",
             "How many reverse proxies stand before Guichet (to read the client address from X-Forwarded-For); "
             "0 or more."),
    Variable("LOG_FORMAT", "text", "text or json."),
    Variable("CAPTCHA_DIFFICULTY", "2000",
             "Work asked of a browser by the self-hosted proof-of-work CAPTCHA (about 1 s at 2000)."),
    Variable("METRICS_ALLOWED_IPS", "127.0.0.1,::1", "Client addresses allowed to read /metrics."),
    Variable("OUTBOX_LEASE_SECONDS", "120",
             "How long a worker holds a message it delivers; after a worker dies, another one takes the message "
             "over after this long. Keep it well above the slowest delivery (SMTP times out after 20 s): "
             "production refuses less than 30."),
]

_DEFAULTS = {v.name: v.default for v in VARIABLES}

ENVIRONMENTS = ("production", "development", "test")
LANGUAGES = ("fr", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def get(name: str) -> str:
    """The variable's value, or its documented default."""
    return os.environ.get(name, _DEFAULTS[name]).strip()


def operator_language() -> str:
    """GUICHET_LANGUAGE when it is a language Guichet speaks, else French (problems() tells of a bad value)."""
    chosen = get("GUICHET_LANGUAGE").lower()
    return chosen if chosen in LANGUAGES else "fr"


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    # English is the messages' own language: no catalogue, the text as written.
    return gettext.translation("django", LOCALE_DIR, languages=[language], fallback=True)


def _(message: str) -> str:
    """The message in the operator's language (named `_` so that makemessages finds the messages)."""
    return _catalogue(operator_language()).gettext(message)


def translated(message: str, values: dict[str, object]) -> str:
    """A start-up error another module wrote (marked with gettext_noop), in the operator's language."""
    return _catalogue(operator_language()).gettext(message) % values


def environment() -> str:
    """GUICHET_ENV, refused at once when unknown: which other checks apply depends on it."""
    value = get("GUICHET_ENV")
    if value not in ENVIRONMENTS:
        raise ConfigurationError([_("GUICHET_ENV must be production, development or test, not %(value)s.")
                                  % {"value": repr(value)}])
    return value


def get_int(name: str) -> int:
    raw = get(name)
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError([_("%(name)s must be a whole number, not %(value)s.")
                                  % {"name": name, "value": repr(raw)}]) from None


class ConfigurationError(Exception):
    """Raised at start-up with every problem found, so an operator fixes them in one go."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            _("Guichet refuses to start with these settings:") + "\n" + "\n".join(f"  - {p}" for p in problems)
        )


def production_problems(*, secret_key: str, base_url: str, email_url: str, sms_url: str,
                        postal_url: str, database_url: str) -> list[str]:
    """What makes these settings unsafe for production; empty when they are fine."""
    problems = []
    if len(secret_key) < 50 or len(set(secret_key)) < 5:
        problems.append(_("SECRET_KEY must be set to at least 50 random characters "
                          "(for example: python -c 'import secrets; print(secrets.token_urlsafe(64))')."))
    if urlsplit(base_url).scheme != "https":
        problems.append(_("BASE_URL must start with https:// (now %(value)s): "
                          "members' passwords and codes must never travel in clear.") % {"value": repr(base_url)})
    for name, value in (("EMAIL_URL", email_url), ("SMS_URL", sms_url), ("POSTAL_URL", postal_url)):
        if value.startswith("mailbox:"):
            problems.append(_("%(name)s is 'mailbox:', which only keeps messages for the demo mailbox: "
                              "set a real delivery address.") % {"name": name})
    if database_url.startswith("sqlite") and os.environ.get("GUICHET_ALLOW_SQLITE_IN_PRODUCTION") != "1":
        problems.append(_("DATABASE_URL points to SQLite: use PostgreSQL in production, or set "
                          "GUICHET_ALLOW_SQLITE_IN_PRODUCTION=1 for a single small node."))
    return problems


# Smallest values that make sense anywhere, and the stricter floors of production (see docs/configuration.md).
MINIMUMS = {"OUTBOX_LEASE_SECONDS": 1, "SESSION_IDLE_MINUTES": 1, "SESSION_MAX_HOURS": 1, "TRUSTED_PROXY_COUNT": 0,
            "PASSWORD_ARGON2_TIME_COST": 1, "PASSWORD_ARGON2_MEMORY_KIB": 8, "PASSWORD_ARGON2_PARALLELISM": 1,
            "CAPTCHA_DIFFICULTY": 1}
PRODUCTION_MINIMUMS = {"OUTBOX_LEASE_SECONDS": 30, "PASSWORD_ARGON2_MEMORY_KIB": 7168}
# OWASP's argon2id table (m=47104 t=1, 19456 t=2, 12288 t=3, 9216 t=4, 7168 t=5): memory x iterations >= this.
ARGON2_MIN_MEMORY_TIMES_ITERATIONS_KIB = 35840
SCHEMES = {
    "EMAIL_URL": ("mailbox", "smtp", "smtp+starttls", "smtps"),
    "SMS_URL": ("mailbox", "http", "https"),
    "POSTAL_URL": ("mailbox", "file"),
    "REDIS_URL": ("redis", "rediss", "unix"),
    "DATABASE_URL": ("sqlite", "postgres", "postgresql", "pgsql"),
}
LOG_FORMATS = ("text", "json")


def problems(*, production: bool, database_url: str) -> list[str]:
    """Every value that cannot work (numbers, URLs, choices), and in production every unsafe one: all of them,
    so that an operator fixes them in one go. `database_url` is DATABASE_URL as the settings resolved it."""
    found: list[str] = []
    if get("GUICHET_LANGUAGE").lower() not in LANGUAGES:
        found.append(_("GUICHET_LANGUAGE must be fr or en, not %(value)s.") % {"value": repr(get("GUICHET_LANGUAGE"))})
    numbers: dict[str, int] = {}
    for name, minimum in MINIMUMS.items():
        raw = get(name)
        try:
            numbers[name] = int(raw)
        except ValueError:
            found.append(_("%(name)s must be a whole number, not %(value)s.") % {"name": name, "value": repr(raw)})
            continue
        floor = max(minimum, PRODUCTION_MINIMUMS.get(name, minimum)) if production else minimum
        if numbers[name] < floor:
            found.append((_("%(name)s must be at least %(least)s in production, not %(value)s.") if floor > minimum
                          else _("%(name)s must be at least %(least)s, not %(value)s."))
                         % {"name": name, "least": floor, "value": numbers[name]})
    memory, lanes = numbers.get("PASSWORD_ARGON2_MEMORY_KIB"), numbers.get("PASSWORD_ARGON2_PARALLELISM")
    if memory is not None and lanes is not None and lanes >= 1 and memory < 8 * lanes:
        found.append(_("PASSWORD_ARGON2_MEMORY_KIB must be at least 8 KiB per lane (8 x %(lanes)s), not %(value)s.")
                     % {"lanes": lanes, "value": memory})
    iterations = numbers.get("PASSWORD_ARGON2_TIME_COST")
    if (production and memory is not None and iterations is not None and memory >= 7168 and iterations >= 1
            and memory * iterations < ARGON2_MIN_MEMORY_TIMES_ITERATIONS_KIB):
        found.append(_("PASSWORD_ARGON2_MEMORY_KIB x PASSWORD_ARGON2_TIME_COST must be at least %(least)s KiB in "
                       "production (OWASP: 19456 KiB with 2 iterations), not %(memory)s x %(iterations)s.")
                     % {"least": ARGON2_MIN_MEMORY_TIMES_ITERATIONS_KIB, "memory": memory, "iterations": iterations})
    for name in SCHEMES:
        value = database_url if name == "DATABASE_URL" else get(name)
        if value or name != "REDIS_URL":
            found += url_problems(name, value, production=production)
    sender = get("EMAIL_FROM")
    header = email.policy.default.header_factory("From", sender)
    if (any(ord(c) < 32 or ord(c) == 127 for c in sender) or header.defects or len(header.addresses) != 1
            or not header.addresses[0].username or not header.addresses[0].domain):
        found.append(_("EMAIL_FROM must be one email address on one line, as 'Guichet <noreply@example.org>' "
                       "(now %(value)s).") % {"value": repr(sender)})
    if get("LOG_FORMAT") not in LOG_FORMATS:
        found.append(_("LOG_FORMAT must be text or json, not %(value)s.") % {"value": repr(get("LOG_FORMAT"))})
    return found


def url_problems(name: str, value: str, *, production: bool) -> list[str]:
    """What keeps this URL setting from working with its transport (or, in production, from being safe)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return [_("%(name)s is not a valid URL (now %(value)s).") % {"name": name, "value": repr(_shown(value))}]
    try:
        parts.port  # noqa: B018 - reading it checks it: a port that is not a number raises ValueError
    except ValueError:
        return [_("%(name)s must give its port as a whole number from 0 to 65535 (now %(value)s).")
                % {"name": name, "value": repr(_shown(value))}]
    schemes = SCHEMES[name]
    if parts.scheme not in schemes:
        return [_("%(name)s must start with one of %(schemes)s (now %(value)s).")
                % {"name": name, "schemes": ", ".join(s + ":" for s in schemes), "value": repr(_shown(value))}]
    if parts.scheme in ("http", "https", "smtp", "smtp+starttls", "smtps", "redis", "rediss") and not parts.hostname:
        return [_("%(name)s must name a host (now %(value)s).") % {"name": name, "value": repr(_shown(value))}]
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not Path(unquote(parts.path)).is_absolute():
            return [_("%(name)s must be file:// followed by an absolute path, as file:///var/spool/guichet/letters "
                      "(now %(value)s).") % {"name": name, "value": repr(value)}]
    if production and name == "SMS_URL" and parts.scheme == "http":
        return [_("SMS_URL must start with https:// in production (now %(value)s): the provider's token "
                  "and members' codes must never travel in clear.") % {"value": repr(_shown(value))}]
    return []


def _shown(url: str) -> str:
    """The URL without its password or token, to quote it in a message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "..."
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def data_dir() -> Path:
    path = Path(get("DATA_DIR"))
    path.mkdir(parents=True, exist_ok=True)
    return path
