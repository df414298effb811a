"""First sign-in with a temporary password (farm preset): choose one's own password, then confirm the
contact details with a 4-digit code sent to the (possibly new) email address. Both renderers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from guichet.audit.models import Event
from guichet.challenges.models import Challenge
from guichet.conftest import PASSWORD
from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys.models import Run
from guichet.web.test_recovery_journey import sign_in

pytestmark = pytest.mark.django_db

OWN = "Tracteur-Rouge-1987!"


def minutes_pass(run_id: str, minutes: int) -> None:
    """Time passes for a run the way these tests move time: what is stored (the run and its codes) moves back."""
    back = timedelta(minutes=minutes)
    Run.objects.filter(pk=run_id).update(created_at=F("created_at") - back, expires_at=F("expires_at") - back)
    Challenge.objects.filter(scope=run_id).update(created_at=F("created_at") - back,
                                                  expires_at=F("expires_at") - back)


def with_temporary_password(make_account, farm) -> tuple[Account, str]:
    account = make_account(farm, factors=(), contacts_confirmed=False)
    password = actions.set_temporary_password(account, now=timezone.now(), actor="test")
    account.refresh_from_db()
    return account, password


def test_farm_first_sign_in_personalises_the_password_then_confirms_contacts(drive, farm, make_account,
                                                                             smtp_sink) -> None:
    account, temporary = with_temporary_password(make_account, farm)
    driver = drive(farm.slug)
    page = sign_in(driver, account.identifier, temporary)
    assert page.step == "change_temporary_password" and "first_login.temporary" in page.notices
    assert page.fields == ["new_password", "confirm_password"] and page.actions == ["change", "abandon"]
    page = driver.submit({"new_password": "Azerty123!", "confirm_password": "Azerty123!"}, "change")
    assert "password.common" in page.field_errors["new_password"]   # "faible" is refused
    page = driver.submit({"new_password": OWN, "confirm_password": OWN + "x"}, "change")
    assert page.field_errors == {"confirm_password": ["password.mismatch"]}
    page = driver.submit({"new_password": OWN, "confirm_password": OWN}, "change")
    assert page.step == "confirm_contacts" and page.fields == ["email", "mobile", "landline", "fax"]
    if driver.kind == "json":   # the HTML page has it in the field's value attribute
        assert f'"value": "{account.email}"' in page.text   # prefilled
    page = driver.submit({"email": "nouvelle.adresse@example.org", "mobile": "06 1"}, "confirm")
    assert page.field_errors == {"mobile": ["field.phone_invalid"]}
    page = driver.submit({"email": "nouvelle.adresse@example.org", "mobile": "06 12 34 56 78",
                          "landline": "05 49 00 00 00"}, "confirm")
    assert page.step == "confirm_email_code" and "nouvelle.adresse@example.org" in page.text
    challenge = Challenge.objects.get(purpose="contact")
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=30)
    code = smtp_sink.last_to("nouvelle.adresse@example.org").code
    assert len(code) == 4
    page = driver.submit({"code": code}, "verify")
    assert page.step == "contacts_verified" and page.notices == ["contact.email_verified"]
    page = driver.submit({}, "continue")
    assert page.outcome == "signed_in"
    account.refresh_from_db()
    assert not account.must_change_password and account.check_password(OWN)
    assert (account.email, account.mobile, account.landline, account.fax) == (
        "nouvelle.adresse@example.org", "+33612345678", "+33549000000", "")
    assert account.contact_confirmed_at and account.email_verified_at
    event = Event.objects.get(kind="contact.confirmed", account_id=account.pk)
    assert event.data["changed"] == ["email", "mobile", "landline"]
    # Next time: nothing more to do.
    assert sign_in(drive(farm.slug), account.identifier, OWN).outcome == "signed_in"


def test_abandon_ends_the_run_without_signing_in(drive, farm, make_account) -> None:
    account, temporary = with_temporary_password(make_account, farm)
    driver = drive(farm.slug)
    sign_in(driver, account.identifier, temporary)
    page = driver.submit({}, "abandon")
    assert page.outcome == "done" and page.notices == ["first_login.abandoned"]
    assert driver.client.get(f"/api/o/{farm.slug}/session").status_code == 401
    account.refresh_from_db()
    assert account.must_change_password and account.check_password(temporary)


def test_an_expired_temporary_password_is_refused(drive, farm, make_account) -> None:
    account, temporary = with_temporary_password(make_account, farm)
    assert account.password_expires_at is not None and account.password_changed_at is not None
    assert account.password_expires_at - account.password_changed_at == timedelta(days=30)
    Account.objects.filter(pk=account.pk).update(password_expires_at=timezone.now() - timedelta(seconds=1))
    page = sign_in(drive(farm.slug), account.identifier, temporary)
    assert page.notices == ["login.temporary_password_expired"]


def test_the_contact_code_can_be_resent_and_is_needed(drive, farm, make_account, smtp_sink) -> None:
    account = make_account(farm, factors=(), contacts_confirmed=False)
    driver = drive(farm.slug)
    page = sign_in(driver, account.identifier, "Correct-Horse-42!")
    assert page.step == "confirm_contacts"   # contacts never confirmed: asked even without a temporary password
    driver.submit({"email": account.email}, "confirm")
    code = smtp_sink.last_to(account.email).code
    assert "code.wait" in driver.submit({}, "resend").notices
    wrong = "0000" if code != "0000" else "1111"
    assert driver.submit({"code": wrong}, "verify").field_errors == {"code": ["code.wrong"]}
    assert driver.submit({"code": code}, "verify").step == "contacts_verified"


def test_the_contact_code_works_for_its_30_minutes_though_the_sign_in_lasts_20(drive, farm, make_account,
                                                                                smtp_sink) -> None:
    """"un code à 4 chiffres, d'une validité de 30 minutes": the sign-in journey it belongs to must not die first."""
    account = make_account(farm, factors=(), contacts_confirmed=False)
    driver = drive(farm.slug)
    assert sign_in(driver, account.identifier, PASSWORD).step == "confirm_contacts"
    assert driver.submit({"email": account.email}, "confirm").step == "confirm_email_code"
    code = smtp_sink.last_to(account.email).code
    minutes_pass(driver.run, 29)   # 29 minutes after the sign-in began: the code's last minute
    page = driver.submit({"code": code}, "verify")
    assert page.step == "contacts_verified" and page.notices == ["contact.email_verified"]
    minutes_pass(driver.run, 5)   # the member reads the confirmation before going on
    assert driver.submit({}, "continue").outcome == "signed_in"


def test_the_run_still_ends_with_its_code(drive, farm, make_account, smtp_sink) -> None:
    account = make_account(farm, factors=(), contacts_confirmed=False)
    driver = drive(farm.slug)
    sign_in(driver, account.identifier, PASSWORD)
    driver.submit({"email": account.email}, "confirm")
    code = smtp_sink.last_to(account.email).code
    minutes_pass(driver.run, 31)   # the code is over, the run not quite
    assert driver.submit({"code": code}, "verify").field_errors == {"code": ["code.expired"]}
    minutes_pass(driver.run, 10)   # ten minutes after its last code, the run is over too
    assert "journey.expired" in driver.submit({"code": code}, "verify").notices
