"""Fixtures shared by every test: the bundled organisations, applied to the real test database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone, translation

from guichet.organisations.apply import apply
from guichet.organisations.models import Organisation
from guichet.policy.loader import load_folder

POLICY_DIR = Path(settings.BASE_DIR) / "policies" / "organisations"
PENSION, FARM, HEALTH = "caisse-retraite-exemple", "caisse-agricole-exemple", "mutuelle-sante-exemple"


@pytest.fixture
def organisations(db: None) -> dict[str, Organisation]:
    apply(load_folder(POLICY_DIR))
    return {o.slug: o for o in Organisation.objects.all()}


@pytest.fixture
def pension(organisations: dict[str, Organisation]) -> Organisation:
    return organisations[PENSION]


@pytest.fixture
def farm(organisations: dict[str, Organisation]) -> Organisation:
    return organisations[FARM]


@pytest.fixture
def health(organisations: dict[str, Organisation]) -> Organisation:
    return organisations[HEALTH]


PASSWORD = "Correct-Horse-42!"


@pytest.fixture
def make_account(db: None):
    """An active member account with its registry record, in any organisation, signed-in identifier per policy."""
    from django.utils import timezone

    from guichet.identities import actions
    from guichet.identities.lookup import normalise_identifier
    from guichet.registry.matching import finess_check_digit
    from guichet.registry.models import MemberRecord

    counter = iter(range(1, 10_000))

    def make(organisation: Organisation, *, email: str = "", password: str = PASSWORD, mobile: str = "",
             factors: tuple[str, ...] = ("email",), state: str = "active", contacts_confirmed: bool = True,
             **record: object):
        n = next(counter)
        policy = organisation.policy
        if policy.member_number.kind == "finess":
            payload = f"{750000 + n:08d}"
            number = payload + finess_check_digit(payload)
        elif policy.preset == "pension-fund":
            number = f"{n:09d}"
        else:
            number = f"{12000000 + n}"
        email = email or f"marie.dupont{n}@example.org"
        member = MemberRecord.objects.create(
            organisation=organisation, member_number=number, first_name="Marie", last_name="Dupont",
            first_name_key="marie", last_name_key="dupont", email=email, email_key=email.lower(), mobile=mobile,
            **record)
        kind = policy.login.identifier.kind
        identifier = normalise_identifier(kind, email if kind == "email" else number)
        account = actions.create_account(organisation, identifier=identifier, member=member, email=email,
                                         mobile=mobile, state=state, actor="test")
        now = timezone.now()
        if contacts_confirmed:   # the first-sign-in contact confirmation is tested on its own
            account.contact_confirmed_at = now
            account.save(update_fields=["contact_confirmed_at"])
        actions.set_password(account, password, now=now, actor="test")
        for kind_ in factors:
            actions.enrol_factor(account, kind_, now=now)
        account.refresh_from_db()
        return account

    return make


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Each test starts in Guichet's default language (French), as every command and request does: a test
    client's request leaves the language it chose active in the thread (LocaleMiddleware does not reset it), and
    a command run afterwards would answer in it."""
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_redis() -> None:
    """With Redis, rate limits, spent tokens and cached sessions live outside the rolled-back database
    transaction: each test starts from an empty Redis database, as it starts from an empty database."""
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


class Clock:
    """The instant `django.utils.timezone.now()` returns while a test pins it; moves only when told."""

    def __init__(self, now: datetime):
        self.now = now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Pins the clock that journeys (Context.now), challenges, rate limits and the ORM read, at the instant the
    test starts: a test of a fixed window (per clock hour, per day) cannot straddle the window's end and see
    the count start again half-way. `clock.advance(...)` moves it on."""
    real_now = timezone.now
    pinned = Clock(real_now())

    def now() -> datetime:
        return pinned.now

    monkeypatch.setattr(timezone, "now", now)
    # Fields declared with default=timezone.now hold the function itself, taken before it was pinned.
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if model_field.default is real_now:
                monkeypatch.setattr(model_field, "default", now)
                monkeypatch.setattr(model_field, "_get_default", now)   # Django caches the default's callable
    return pinned
