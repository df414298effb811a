"""A signed-in member adds a second factor from their space; from then on every sign-in asks for it."""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from guichet.audit.models import Event
from guichet.conftest import PASSWORD
from guichet.identities import actions, totp
from guichet.identities.models import Account, Factor, LoginThrottle, RememberedDevice
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.web.test_recovery_journey import sign_in

pytestmark = pytest.mark.django_db

JOURNEY = "second_factor_enrolment"


def next_totp(seed: str, steps_ahead: int = 1) -> str:
    """A code of a later time step: a code already used (to confirm the enrolment) is never accepted again."""
    return pyotp.TOTP(seed).generate_otp(int(timezone.now().timestamp()) // 30 + steps_ahead)


def test_not_signed_in_is_told_to_sign_in(drive, farm) -> None:
    page = drive(farm.slug).open(JOURNEY)
    assert page.notices == ["mfa.sign_in_first"] and page.fields == [] and page.actions == []


def test_a_session_of_another_organisation_is_not_enough(drive, farm, health, make_account) -> None:
    account = make_account(health, factors=())
    driver = drive(health.slug)
    assert sign_in(driver, account.identifier, PASSWORD).outcome == "signed_in"
    page = drive(farm.slug, driver.client).open(JOURNEY)
    assert page.notices == ["mfa.sign_in_first"] and page.fields == []


def test_farm_member_adds_an_authenticator_app_then_signing_in_asks_for_it(drive, farm, make_account) -> None:
    account = make_account(farm, factors=())
    driver = drive(farm.slug)
    assert sign_in(driver, account.identifier, PASSWORD).outcome == "signed_in"   # no second factor yet
    space = driver.client.get(f"/o/{farm.slug}/espace/").content.decode()
    assert f'href="{journey_path(farm.slug, JOURNEY)}"' in space and "Renforcer la sécurité de mon compte" in space
    actions.remember_device(account, days=30, label="tablet", now=timezone.now(), ip=None)

    page = driver.open(JOURNEY)
    assert page.step == "confirm_password" and page.fields == ["current_password"]
    page = driver.submit({"current_password": "wrong"}, "confirm")
    assert page.step == "confirm_password" and page.field_errors == {"current_password": ["password.current_wrong"]}
    assert LoginThrottle.objects.get().failures == 1   # counts towards the sign-in lock-out
    assert Event.objects.filter(kind="login.failed", account_id=account.pk,
                                data__reason="second_factor_enrolment").exists()

    page = driver.submit({"current_password": PASSWORD}, "confirm")
    assert page.step == "enrol_choose" and "mfa.enrol_intro" in page.notices
    for method in ("Un code envoyé à mon adresse e-mail", "Un code envoyé par SMS",
                   "Une application d’authentification sur mon téléphone", "Une clé d'accès"):
        assert method in page.text   # the farm's policy allows all four
    page = driver.submit({"method": "totp"}, "choose")
    assert page.step == "enrol_confirm" and page.fields == ["code"] and "mfa.totp_intro" in page.notices
    seed = totp.unseal(Run.objects.get(pk=driver.run).state["totp_seed"])
    assert seed[:4] in page.text   # the key to type in the app
    page = driver.submit({"code": "000000" if pyotp.TOTP(seed).now() != "000000" else "111111"}, "verify")
    assert page.field_errors == {"code": ["code.wrong"]}
    page = driver.submit({"code": pyotp.TOTP(seed).now()}, "verify")
    assert page.outcome == "done" and page.notices == ["mfa.enrolled"]

    factor = Factor.objects.get(account=account)
    assert factor.kind == "totp" and factor.secret and seed not in factor.secret   # stored encrypted
    assert Event.objects.filter(kind="factor.enrolled", account_id=account.pk, data__factor="totp").exists()
    assert RememberedDevice.objects.get(account=account).revoked_at is not None   # a credential change
    assert driver.client.get(f"/api/o/{farm.slug}/session").status_code == 200   # still signed in

    again = drive(farm.slug, Client())
    page = sign_in(again, account.identifier, PASSWORD)
    assert page.step == "second_factor" and "code" in page.fields and "use_code" in page.actions
    page = again.submit({"code": next_totp(seed)}, "verify")
    assert page.outcome == "signed_in"
    assert again.client.get(f"/api/o/{farm.slug}/session").json()["method"] == "password+totp"


def test_health_member_adds_codes_by_email(drive, health, make_account, smtp_sink) -> None:
    account = make_account(health, factors=())
    driver = drive(health.slug)
    sign_in(driver, account.identifier, PASSWORD)
    driver.open(JOURNEY)
    page = driver.submit({"current_password": PASSWORD}, "confirm")
    assert page.step == "enrol_choose" and "mobile" not in page.fields   # the health mutual sends no SMS
    driver.submit({"method": "email"}, "choose")
    page = driver.submit({"code": smtp_sink.last_to(account.email).code}, "verify")
    assert page.outcome == "done" and page.notices == ["mfa.enrolled"]
    assert list(Factor.objects.filter(account=account).values_list("kind", flat=True)) == ["email"]
    page = sign_in(drive(health.slug, Client()), account.identifier, PASSWORD)
    assert page.step == "second_factor" and "code.sent_email" in page.notices


def test_the_password_cannot_be_skipped(drive, farm, make_account) -> None:
    account = make_account(farm, factors=())
    driver = drive(farm.slug)
    sign_in(driver, account.identifier, PASSWORD)
    driver.open(JOURNEY)
    page = driver.submit({"method": "totp"}, "choose")   # the next step's form, posted to this one
    assert page.step == "confirm_password" and page.field_errors == {"current_password": ["field.required"]}
    assert not Factor.objects.filter(account=account).exists()


def test_an_account_without_a_password_is_told_why_not(drive, farm, make_account) -> None:
    """Opened through FranceConnect (oidc.federation), an account has no password: nothing to strengthen."""
    account = make_account(farm, factors=())
    Account.objects.filter(pk=account.pk).update(password="!unusable")
    account.refresh_from_db()
    client = Client()
    client.force_login(account, backend="guichet.identities.backend.AccountBackend")
    session = client.session   # what web.outcomes.sign_in keeps, as after a sign-in through FranceConnect
    session.update({"organisation": farm.slug, "signed_in_at": timezone.now().timestamp(),
                    "seen_at": timezone.now().timestamp()})
    session.save()
    page = drive(farm.slug, client).open(JOURNEY)
    assert page.notices == ["mfa.no_password"] and page.fields == []
