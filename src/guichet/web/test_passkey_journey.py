"""Passkeys in the sign-in journey, server side, through both renderers: what a browser that cannot (or
will not) prove anything gets. The real ceremony runs in Chromium: web/test_passkey_browser.py."""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from guichet.audit.models import Event
from guichet.conftest import PASSWORD
from guichet.identities import actions
from guichet.identities.models import Factor, LoginThrottle, Passkey
from guichet.identities.passkeys import NewPasskey
from guichet.web.test_login_journey import code_from, sign_in_password

pytestmark = pytest.mark.django_db

FORGED = json.dumps({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                     "response": {"clientDataJSON": "e30", "attestationObject": "AAAA", "authenticatorData": "AAAA",
                                  "signature": "AAAA"}})


def failures() -> int:
    throttle = LoginThrottle.objects.first()
    return throttle.failures if throttle else 0


def wrong_second_factors(account) -> int:
    """The account's own count: failures() reads the first throttle, whichever account it belongs to."""
    return Event.objects.filter(kind="login.failed", account_id=account.pk, data__reason="second_factor").count()


def test_enrolment_refuses_a_forged_passkey_and_counts_it(drive, pension, make_account) -> None:
    account = make_account(pension, factors=())
    driver = drive(pension.slug)
    page = sign_in_password(driver, account.email)
    assert page.step == "enrol_choose" and "empreinte digitale, visage ou clé de sécurité" in page.text
    page = driver.submit({"method": "passkey"}, "choose")
    assert page.step == "enrol_confirm" and page.fields == ["credential"]
    assert page.actions == ["verify", "other_method"] and "passkey.enrol_intro" in page.notices
    if driver.kind == "json":
        options = json.loads(page.text)["fields"][0]["options"]
        assert options["rp"]["id"] == urlsplit(settings.BASE_URL).hostname
        assert options["user"]["id"] and options["challenge"]
    for garbage in (FORGED, "not json at all", "[1, 2]"):
        before = failures()
        page = driver.submit({"credential": garbage}, "verify")
        assert page.step == "enrol_confirm" and page.field_errors == {"credential": ["passkey.failed"]}
        assert failures() == before + 1
    assert Event.objects.filter(kind="login.failed", account_id=account.pk, data__reason="second_factor").count() == 3
    assert not Passkey.objects.exists() and not Factor.objects.filter(account=account).exists()


def test_a_cancelled_passkey_counts_nothing_and_another_method_can_be_chosen(drive, pension, make_account,
                                                                              smtp_sink) -> None:
    account = make_account(pension, factors=())
    driver = drive(pension.slug)
    sign_in_password(driver, account.email)
    driver.submit({"method": "passkey"}, "choose")
    page = driver.submit({"credential": json.dumps({"error": "NotAllowedError"})}, "verify")
    assert page.field_errors == {"credential": ["passkey.cancelled"]} and failures() == 0
    page = driver.submit({}, "verify")   # what a browser without JavaScript sends
    assert page.field_errors == {"credential": ["passkey.unavailable"]} and failures() == 0
    page = driver.submit({}, "other_method")   # the way out without JavaScript
    assert page.step == "enrol_choose"
    page = driver.submit({"method": "email"}, "choose")
    page = driver.submit({"code": code_from(smtp_sink, account.email)}, "verify")
    assert page.outcome == "signed_in"


def test_sign_in_refuses_a_forged_assertion_and_offers_a_code_instead(drive, pension, make_account,
                                                                       smtp_sink) -> None:
    account = make_account(pension, factors=())
    key = secrets.token_bytes(16)
    actions.enrol_passkey(account, NewPasskey(credential_id="AAAA", public_key=key, sign_count=0, transports=[]),
                          now=timezone.now())
    driver = drive(pension.slug)
    page = sign_in_password(driver, account.email)
    assert page.step == "second_factor" and "passkey.sign_in_intro" in page.notices
    assert "credential" in page.fields and page.actions == ["verify", "use_code"]
    page = driver.submit({"credential": FORGED}, "verify")
    assert page.field_errors == {"credential": ["passkey.failed"]} and failures() == 1
    page = driver.submit({}, "use_code")
    assert "code.sent_email" in page.notices
    page = driver.submit({"code": code_from(smtp_sink, account.email)}, "verify")
    assert page.outcome == "signed_in"
    assert Passkey.objects.get().last_used_at is None


def test_a_cancelled_passkey_at_sign_in_offers_another_way_only_when_the_screen_has_one(drive, farm,
                                                                                      make_account) -> None:
    """With a code to fall back on, the member is told to press again or choose another way; a member with
    nowhere to send a code (no email, no mobile) has only the passkey, and is told only to press again."""
    from guichet.web.test_login_journey import without_email

    with_email, alone = make_account(farm, factors=()), without_email(make_account, farm)
    for account, actions_, code, other_way in ((with_email, ["verify", "use_code"], "passkey.cancelled", True),
                                               (alone, ["verify"], "passkey.cancelled_no_other_way", False)):
        actions.enrol_passkey(account, NewPasskey(credential_id=secrets.token_urlsafe(8), public_key=b"key",
                                                  sign_count=0, transports=[]), now=timezone.now())
        driver = drive(farm.slug)
        assert sign_in_password(driver, account.identifier).step == "second_factor"
        page = driver.submit({"credential": json.dumps({"error": "NotAllowedError"})}, "verify")
        assert page.step == "second_factor" and page.actions == actions_
        assert page.field_errors == {"credential": [code]} and failures() == 0
        assert "Appuyez de nouveau sur le bouton" in page.text
        assert ("choisissez une autre façon de faire" in page.text) is other_way


def test_an_unusable_or_refused_passkey_at_sign_in_offers_another_way_only_when_the_screen_has_one(
        drive, farm, make_account) -> None:
    """A browser without JavaScript (no answer) and a passkey that does not check out (a forged assertion for
    the member's own passkey, refused by the real WebAuthn verification) tell a member with a code to fall
    back on to choose another way. A member with nowhere to send a code has only the passkey: the first is
    told to switch JavaScript on or use the browser of the device holding the passkey, the second to try
    again, and both to contact the organisation otherwise; neither is sent looking for another way."""
    from guichet.web.test_login_journey import without_email

    with_email, alone = make_account(farm, factors=()), without_email(make_account, farm)
    for account, actions_, other_way in ((with_email, ["verify", "use_code"], True), (alone, ["verify"], False)):
        credential_id = secrets.token_urlsafe(8)
        actions.enrol_passkey(account, NewPasskey(credential_id=credential_id, public_key=secrets.token_bytes(16),
                                                  sign_count=0, transports=[]), now=timezone.now())
        forged = json.dumps({**json.loads(FORGED), "id": credential_id, "rawId": credential_id})
        driver = drive(farm.slug)
        assert sign_in_password(driver, account.identifier).step == "second_factor"
        page = driver.submit({}, "verify")   # what a browser without JavaScript sends
        assert page.step == "second_factor" and page.actions == actions_ and wrong_second_factors(account) == 0
        assert page.field_errors == {"credential": [
            "passkey.unavailable" if other_way else "passkey.unavailable_no_other_way"]}
        assert ("choisissez une autre façon de faire" in page.text.lower()) is other_way
        assert ("Activez JavaScript et réessayez" in page.text) is not other_way
        assert ("veuillez nous contacter" in page.text) is not other_way

        page = driver.submit({"credential": forged}, "verify")
        assert page.step == "second_factor" and page.actions == actions_ and wrong_second_factors(account) == 1
        assert page.field_errors == {"credential": ["passkey.failed" if other_way else "passkey.failed_no_other_way"]}
        assert "Cette clé d'accès n'a pas pu être vérifiée. Réessayez" in page.text
        assert ("choisissez une autre façon de faire" in page.text.lower()) is other_way
        assert ("veuillez nous contacter" in page.text) is not other_way
        assert Passkey.objects.get(account=account).last_used_at is None


def test_a_passkey_added_from_the_space_is_told_to_the_member(drive, farm, make_account, smtp_sink, sms_sink,
                                                              monkeypatch) -> None:
    """The ceremony itself runs in Chromium (test_second_factor_enrolment_browser.py); here the browser's
    answer is taken as proven, to see what follows it through both renderers: the member is told."""
    from guichet.identities import passkeys
    from guichet.web.test_recovery_journey import sign_in

    account = make_account(farm, factors=(), mobile="06 12 34 56 78")
    monkeypatch.setattr(passkeys, "verify_registration", lambda credential, challenge: NewPasskey(
        credential_id="BBBB", public_key=secrets.token_bytes(16), sign_count=0, transports=[]))
    driver = drive(farm.slug)
    sign_in(driver, account.identifier, PASSWORD)
    driver.open("second_factor_enrolment")
    driver.submit({"current_password": PASSWORD}, "confirm")
    driver.submit({"method": "passkey"}, "choose")
    page = driver.submit({"credential": FORGED}, "verify")
    assert page.outcome == "done" and page.notices == ["mfa.enrolled"]
    assert "une clé d’accès." in smtp_sink.last_to(account.email).body
    assert "un nouveau moyen de vérifier vos connexions" in sms_sink.last_to("+33612345678").text
    assert Event.objects.get(kind="factor.enrolment_notified", account_id=account.pk).data == {
        "factor": "passkey", "channels": ["email", "sms"]}
