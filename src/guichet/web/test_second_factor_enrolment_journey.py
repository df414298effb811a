"""A signed-in member adds a second factor from their space; from then on every sign-in asks for it."""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client
from django.utils import formats, timezone

from guichet.audit.models import Event
from guichet.channels.models import Message
from guichet.channels.outbox import phone_number
from guichet.conftest import PASSWORD
from guichet.identities import actions, totp
from guichet.identities.models import Account, Factor, LoginThrottle, RememberedDevice
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.web.journey_driver import Page
from guichet.web.test_recovery_farm_journey import ask, temporary_password_in
from guichet.web.test_recovery_journey import sign_in

pytestmark = pytest.mark.django_db

JOURNEY = "second_factor_enrolment"


def next_totp(seed: str, steps_ahead: int = 1) -> str:
    """A code of a later time step, as the app shows it 30 seconds later: the code that confirmed the
    enrolment is refused at sign-in (test_farm_member_adds_an_authenticator_app_then_signing_in_asks_for_it)."""
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
    assert page.field_errors == {"code": ["code.wrong_app"]}
    assert "Saisissez le code que votre application affiche maintenant" in page.text and "Essais" not in page.text
    confirming_code = pyotp.TOTP(seed).now()
    page = driver.submit({"code": confirming_code}, "verify")
    assert page.outcome == "done" and page.notices == ["mfa.enrolled"]

    factor = Factor.objects.get(account=account)
    assert factor.kind == "totp" and factor.secret and seed not in factor.secret   # stored encrypted
    assert Event.objects.filter(kind="factor.enrolled", account_id=account.pk, data__factor="totp").exists()
    assert RememberedDevice.objects.get(account=account).revoked_at is not None   # a credential change
    assert driver.client.get(f"/api/o/{farm.slug}/session").status_code == 200   # still signed in

    again = drive(farm.slug, Client())
    page = sign_in(again, account.identifier, PASSWORD)
    assert page.step == "second_factor" and "code" in page.fields and "use_code" in page.actions
    page = again.submit({"code": confirming_code}, "verify")   # seen over the shoulder while enrolling
    assert page.step == "second_factor" and page.field_errors == {"code": ["code.wrong_app"]}
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


MEMBER_MOBILE, THIEF_MOBILE = "+33612345678", "+33798765432"


def enrol_by_text_message(driver, mobile: str, sms_sink) -> Page:
    """From the space, signed in: the password again, then codes by text message to `mobile`."""
    driver.open(JOURNEY)
    driver.submit({"current_password": PASSWORD}, "confirm")
    page = driver.submit({"method": "sms", "mobile": mobile}, "choose")
    assert page.step == "enrol_confirm" and "code.sent_sms" in page.notices
    return driver.submit({"code": sms_sink.last_to(phone_number(mobile)).code}, "verify")


def test_a_phone_enrolled_with_a_stolen_password_takes_neither_recovery_nor_the_member_unawares(
        drive, farm, make_account, smtp_sink, sms_sink) -> None:
    """At the farm a password alone opens a session. Whoever holds it may enrol their own phone for codes;
    the account's mobile, where recovery sends temporary passwords, stays the member's, and the member is
    told by email and on that mobile."""
    account = make_account(farm, factors=(), mobile="06 12 34 56 78")
    thief = drive(farm.slug)
    assert sign_in(thief, account.identifier, PASSWORD).outcome == "signed_in"
    page = enrol_by_text_message(thief, "07 98 76 54 32", sms_sink)
    assert page.outcome == "done" and page.notices == ["mfa.enrolled"]

    account.refresh_from_db()
    assert account.mobile == "06 12 34 56 78"   # untouched: not the thief's number
    factor = Factor.objects.get(account=account)
    assert (factor.kind, factor.mobile) == ("sms", THIEF_MOBILE)
    assert not Event.objects.filter(kind="contact.mobile_changed").exists()

    email = smtp_sink.last_to(account.email)
    assert email.subject == "Un nouveau moyen de vérifier vos connexions a été ajouté – Caisse agricole Exemple"
    body = " ".join(email.body.split())
    today = formats.date_format(timezone.localtime(), "j F Y")
    assert f"a été ajouté à votre compte Caisse agricole Exemple le {today}, " in body
    assert "des codes envoyés par SMS au +337 ** ** ** 32." in body
    assert "contactez-nous sans attendre" in body and "Mot de passe oublié ?" in body
    assert "01 23 45 67 89" in body and "contact@caisse-agricole.example" in body   # the support contacts
    text = sms_sink.last_to(MEMBER_MOBILE).text
    assert text.startswith("Caisse agricole Exemple : un nouveau moyen de vérifier vos connexions a été ajouté")
    assert f"le {timezone.localtime():%d/%m/%Y}" in text and "appelez-nous vite au 01 23 45 67 89" in text
    assert not Message.objects.filter(template="factor_enrolled", recipient=THIEF_MOBILE).exists()
    told = Event.objects.get(kind="factor.enrolment_notified", account_id=account.pk)
    assert told.data == {"factor": "sms", "channels": ["email", "sms"]} and told.actor == "system"

    # Sign-in codes go to the factor's own number...
    page = sign_in(drive(farm.slug, Client()), account.identifier, PASSWORD)
    assert page.step == "second_factor" and "code.sent_sms" in page.notices and "** ** ** 32" in page.text
    assert Message.objects.filter(template="login_code").latest("created_at").recipient == THIEF_MOBILE
    # ...while recovery still reaches the member, on the account's number.
    recovery = drive(farm.slug)
    assert ask(recovery, account.identifier, "sms").step == "code"
    page = recovery.submit({"code": sms_sink.last_to(MEMBER_MOBILE).code}, "verify")
    assert page.notices == ["recovery.temporary_sent_sms"]
    account.refresh_from_db()
    assert account.check_password(temporary_password_in(sms_sink.last_to(MEMBER_MOBILE).text))


def test_the_warning_speaks_the_organisations_language_whatever_the_enrolling_pages_spoke(
        drive, farm, make_account, smtp_sink, sms_sink) -> None:
    """Whoever enrols may be a thief with the password, browsing in English: their sign-in writes English as
    the account's last language, so the warning is written in the organisation's language (French) instead,
    never in the enroller's."""
    account = make_account(farm, factors=(), mobile="06 12 34 56 78")
    Account.objects.filter(pk=account.pk).update(language="fr")   # the member's last sign-in, in French
    thief = drive(farm.slug, Client(HTTP_ACCEPT_LANGUAGE="en"))
    page = sign_in(thief, account.identifier, PASSWORD)
    assert page.outcome == "signed_in"
    account.refresh_from_db()
    assert account.language == "en"   # what the thief's pages spoke
    assert thief.open(JOURNEY).title == "Make my account more secure"   # the enrolment's pages are English
    assert enrol_by_text_message(thief, "07 98 76 54 32", sms_sink).outcome == "done"
    warnings = Message.objects.filter(template="factor_enrolled")
    assert sorted(warnings.values_list("channel", "language")) == [("email", "fr"), ("sms", "fr")]
    assert smtp_sink.last_to(account.email).subject.startswith("Un nouveau moyen de vérifier vos connexions")
    assert sms_sink.last_to(MEMBER_MOBILE).text.startswith("Caisse agricole Exemple : un nouveau moyen de vérifier")


def test_a_new_number_tells_the_number_it_replaces(drive, farm, make_account, smtp_sink, sms_sink) -> None:
    """The number just enrolled received the code, so it is not warned; the account's own number and the
    number the SMS factor had before are."""
    account = make_account(farm, factors=(), mobile="06 12 34 56 78")
    driver = drive(farm.slug)
    sign_in(driver, account.identifier, PASSWORD)
    assert enrol_by_text_message(driver, "06 12 34 56 78", sms_sink).outcome == "done"
    told = Event.objects.filter(kind="factor.enrolment_notified", account_id=account.pk)
    assert told.get().data["channels"] == ["email"]   # the member's own number, just proved
    assert not Message.objects.filter(template="factor_enrolled", channel="sms").exists()

    assert enrol_by_text_message(driver, "07 98 76 54 32", sms_sink).outcome == "done"
    assert Factor.objects.get(account=account).mobile == THIEF_MOBILE   # replaced
    assert told.latest("at").data["channels"] == ["email", "sms"]
    warned = Message.objects.filter(template="factor_enrolled", channel="sms")
    assert list(warned.values_list("recipient", flat=True)) == [MEMBER_MOBILE]

    other = make_account(farm, factors=(), mobile="")   # no number on the account: the factor's is warned
    driver = drive(farm.slug)
    sign_in(driver, other.identifier, PASSWORD)
    enrol_by_text_message(driver, "06 45 67 89 01", sms_sink)
    enrol_by_text_message(driver, "07 81 23 45 67", sms_sink)
    assert "nouveau moyen de vérifier" in sms_sink.last_to("+33645678901").text
    assert not Message.objects.filter(template="factor_enrolled", recipient="+33781234567").exists()


def test_a_member_without_email_is_told_by_text_message_and_can_receive_a_code_instead(
        drive, farm, make_account, sms_sink) -> None:
    """Farm accounts come from the registry, often without email. One that enrolled an app, then lost the
    phone, still signs in with "Receive a code instead": the code goes to the mobile number on record."""
    account = make_account(farm, factors=(), mobile="06 12 34 56 78")
    Account.objects.filter(pk=account.pk).update(email="")
    driver = drive(farm.slug)
    sign_in(driver, account.identifier, PASSWORD)
    driver.open(JOURNEY)
    page = driver.submit({"current_password": PASSWORD}, "confirm")
    assert "Un code envoyé à mon adresse e-mail" not in page.text
    driver.submit({"method": "totp"}, "choose")
    seed = totp.unseal(Run.objects.get(pk=driver.run).state["totp_seed"])
    assert driver.submit({"code": pyotp.TOTP(seed).now()}, "verify").outcome == "done"
    assert "un nouveau moyen de vérifier vos connexions" in sms_sink.last_to(MEMBER_MOBILE).text
    told = Event.objects.get(kind="factor.enrolment_notified", account_id=account.pk)
    assert told.data == {"factor": "totp", "channels": ["sms"]}

    again = drive(farm.slug, Client())
    page = sign_in(again, account.identifier, PASSWORD)
    assert page.step == "second_factor" and page.actions == ["verify", "use_code"]
    page = again.submit({}, "use_code")
    assert "code.sent_sms" in page.notices and "** ** ** 78" in page.text and "resend" in page.actions
    page = again.submit({"code": sms_sink.last_to(MEMBER_MOBILE).code}, "verify")
    assert page.outcome == "signed_in"
    assert again.client.get(f"/api/o/{farm.slug}/session").json()["method"] == "password+code"
