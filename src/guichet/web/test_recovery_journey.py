"""The forgotten-password journey by link (pension fund) and by link and code (health mutual), through
both renderers, with the links and codes read from real emails."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from guichet.audit.models import Event
from guichet.challenges.models import Challenge
from guichet.channels.models import Message
from guichet.conftest import PASSWORD
from guichet.identities import actions
from guichet.identities.models import Account, RememberedDevice
from guichet.journeys.paths import journey_path
from guichet.security.number_words import from_words
from guichet.web.journey_driver import Page

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lavande-Sous-La-Pluie-7"


def answer_robot_check(page: Page) -> str:
    """What a member without JavaScript does: read the number in the question, type it in digits."""
    words = re.search(r"[«“]\s*([^»”]+?)\s*[»”]", page.text)
    assert words, page.text
    number = from_words(words[1])
    assert number is not None, words[1]
    return str(number)


def open_link(driver, url: str) -> Page:
    """Follow an emailed link the way each renderer does: a page that redirects, or POST .../link."""
    token = parse_qs(urlsplit(url).query)["lien"][0]
    if driver.kind == "html":
        driver.path = journey_path(driver.slug, "recovery")
        return driver._read(driver.client.get(f"{driver.path}?lien={token}", follow=True))
    driver.journey = "recovery"
    return driver._read(driver.client.post(f"/api/o/{driver.slug}/journeys/recovery/link",
                                           json.dumps({"token": token}), content_type="application/json"))


def ask_pension(driver, email: str) -> Page:
    page = driver.open("recovery")
    assert page.step == "ask" and page.fields == ["email", "captcha"]
    return driver.submit({"email": email, "captcha": answer_robot_check(page)}, "continue")


def sign_in(driver, identifier: str, password: str) -> Page:
    driver.open("login")
    return driver.submit({"identifier": identifier, "password": password}, "sign_in")


def test_pension_fund_link_sets_a_new_password(drive, pension, make_account, smtp_sink) -> None:
    account = make_account(pension, email="melkior.dupont@gmail.com")
    actions.remember_device(account, days=30, label="old phone", now=timezone.now(), ip=None)
    page = ask_pension(drive(pension.slug), " Melkior.Dupont@Gmail.com ")
    assert page.outcome == "done" and page.notices == ["recovery.sent_if_exists"]
    email = smtp_sink.last_to(account.email)
    assert "1 heure" in email.body
    driver = drive(pension.slug)
    page = open_link(driver, email.link)
    assert page.step == "new_password" and page.fields == ["new_password", "confirm_password"]
    page = driver.submit({"new_password": "short", "confirm_password": "short"}, "set_password")
    assert "password.min_length" in page.field_errors["new_password"]
    page = driver.submit({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}, "set_password")
    assert page.outcome == "done" and page.notices == ["recovery.password_reset"]
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    assert RememberedDevice.objects.get(account=account).revoked_at is not None
    assert smtp_sink.last_to(account.email).subject.startswith("Votre mot de passe a été modifié")
    assert {"recovery.asked", "recovery.link_sent", "password.changed", "recovery.password_reset"} <= set(
        Event.objects.filter(account_id=account.pk).values_list("kind", flat=True))
    assert sign_in(drive(pension.slug), account.email, NEW_PASSWORD).step == "second_factor"


def test_pension_fund_unknown_email_sees_the_same_and_nothing_is_sent(drive, pension, make_account,
                                                                       smtp_sink) -> None:
    account = make_account(pension)
    pending = make_account(pension, state=Account.State.PENDING)
    answers = []
    for email in (account.email, "nobody@example.org", pending.email):
        page = ask_pension(drive(pension.slug), email)
        answers.append((page.status, page.outcome, page.title, page.notices, page.field_errors))
    assert len(set(map(repr, answers))) == 1, answers
    assert list(Message.objects.values_list("recipient", flat=True)) == [account.email]


def test_pension_fund_robot_check_is_required(drive, pension, make_account) -> None:
    account = make_account(pension)
    driver = drive(pension.slug)
    page = driver.open("recovery")
    page = driver.submit({"email": account.email}, "continue")
    assert page.field_errors == {"captcha": ["field.required"]}
    page = driver.submit({"email": account.email, "captcha": "1000"}, "continue")
    assert page.field_errors == {"captcha": ["captcha.wrong"]}
    assert not Message.objects.exists() and not Challenge.objects.exists()
    page = driver.submit({"email": account.email, "captcha": answer_robot_check(page)}, "continue")
    assert page.outcome == "done" and Message.objects.count() == 1


def test_pension_fund_proof_of_work_answers_the_robot_check(drive, pension, make_account, settings) -> None:
    import altcha

    settings.CAPTCHA_DIFFICULTY = 50
    account = make_account(pension)
    driver = drive(pension.slug)
    driver.open("recovery")
    challenge = altcha.Challenge.from_dict(driver.client.get(f"/api/o/{pension.slug}/captcha").json())
    solution = altcha.solve_challenge(challenge, timeout=30)
    assert solution is not None, "solved within the timeout"
    payload = altcha.Payload(challenge, solution).to_base64()
    page = driver.submit({"email": account.email, "captcha": payload}, "continue")
    assert page.outcome == "done" and Message.objects.count() == 1
    driver.open("recovery")
    page = driver.submit({"email": account.email, "captcha": payload}, "continue")   # replayed
    assert page.field_errors == {"captcha": ["captcha.wrong"]}


def test_a_link_works_once_and_not_after_it_expires(drive, pension, make_account, smtp_sink) -> None:
    account = make_account(pension)
    ask_pension(drive(pension.slug), account.email)
    link = smtp_sink.last_to(account.email).link
    driver = drive(pension.slug)
    assert open_link(driver, link).step == "new_password"
    assert driver.submit({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
                         "set_password").outcome == "done"
    page = open_link(drive(pension.slug), link)
    assert page.outcome == "done" and page.notices == ["recovery.link_dead"]
    # A second request: its link expires after the policy's hour.
    ask_pension(drive(pension.slug), account.email)
    link = smtp_sink.last_to(account.email).link
    challenge = Challenge.objects.get(purpose="recovery", used_at=None, replaced_at=None)
    assert challenge.expires_at - challenge.created_at == timedelta(hours=1)
    driver = drive(pension.slug)
    assert open_link(driver, link).step == "new_password"   # opened in time...
    Challenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = driver.submit({"new_password": "Autre-Lavande-Sous-La-Pluie-8",
                          "confirm_password": "Autre-Lavande-Sous-La-Pluie-8"}, "set_password")
    assert "recovery.link_dead" in page.notices   # ...but used too late
    assert open_link(drive(pension.slug), link).notices == ["recovery.link_dead"]
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)


def ask_health(driver, finess: str, email: str) -> Page:
    page = driver.open("recovery")
    assert page.step == "ask" and page.fields == ["identifier", "email"]
    return driver.submit({"identifier": finess, "email": email}, "continue")


def test_health_mutual_link_then_finess_and_code_then_password(drive, health, make_account, smtp_sink) -> None:
    account = make_account(health, factors=())
    driver = drive(health.slug)
    page = ask_health(driver, account.identifier, account.email.upper())
    assert page.outcome == "done" and page.notices == ["recovery.sent_if_exists_with_code"]
    if driver.kind == "html":
        assert "Mettre à jour mon compte" in page.text   # shown to everybody: it reveals nothing
    email = smtp_sink.last_to(account.email)
    assert "Réinitialiser mon mot de passe" in email.body and "24 heures" in email.body
    code = email.code
    assert len(code) == 6
    driver = drive(health.slug)
    page = open_link(driver, email.link)
    assert page.step == "verify_code" and page.fields == ["identifier", "code"]
    page = driver.submit({"identifier": "999999999", "code": code}, "verify")   # not this member's number
    assert page.notices == ["recovery.verify_invalid"] and "4" in page.text
    page = driver.submit({"identifier": account.identifier, "code": code}, "verify")
    assert page.step == "new_password"
    too_long = "Aa1!" + "x" * 22
    page = driver.submit({"new_password": too_long, "confirm_password": too_long}, "set_password")
    assert "password.max_length" in page.field_errors["new_password"]
    page = driver.submit({"new_password": "Pompier-Du-Var-83", "confirm_password": "Pompier-Du-Var-83"},
                         "set_password")
    assert page.outcome == "done" and page.notices == ["recovery.password_reset"]
    page = sign_in(drive(health.slug), account.identifier, "Pompier-Du-Var-83")
    assert page.outcome == "signed_in", page


def test_health_mutual_every_detail_must_match_and_no_email_sends_nothing(drive, health, make_account,
                                                                          smtp_sink) -> None:
    account = make_account(health)
    no_email = make_account(health)
    Account.objects.filter(pk=no_email.pk).update(email="")
    answers = []
    for finess, email in ((account.identifier, account.email), (account.identifier, "other@example.org"),
                          ("999999999", account.email), (no_email.identifier, no_email.email)):
        page = ask_health(drive(health.slug), finess, email)
        answers.append((page.outcome, page.title, page.notices, page.text.count("inscription")))
    assert len(set(map(repr, answers))) == 1, answers
    assert list(Message.objects.values_list("recipient", flat=True)) == [account.email]


def test_health_mutual_code_attempts_are_limited(drive, health, make_account, smtp_sink) -> None:
    account = make_account(health)
    ask_health(drive(health.slug), account.identifier, account.email)
    email = smtp_sink.last_to(account.email)
    wrong = "000000" if email.code != "000000" else "111111"
    driver = drive(health.slug)
    open_link(driver, email.link)
    for _ in range(4):
        assert driver.submit({"identifier": account.identifier, "code": wrong}, "verify").notices == [
            "recovery.verify_invalid"]
    page = driver.submit({"identifier": account.identifier, "code": wrong}, "verify")
    assert "code.exhausted" in page.notices and page.outcome == "done"
    page = open_link(drive(health.slug), email.link)   # the link died with its code
    assert page.notices == ["recovery.link_dead"]


def test_requests_are_rate_limited_per_identifier(drive, health, make_account, smtp_sink) -> None:
    account = make_account(health)
    for _ in range(5):
        assert ask_health(drive(health.slug), account.identifier, account.email).outcome == "done"
    page = ask_health(drive(health.slug), account.identifier, account.email)
    assert page.notices == ["request.rate_limited"]
    assert Message.objects.count() == 5


def test_disabling_the_account_kills_its_recovery_link_even_once_enabled_again(drive, pension, make_account,
                                                                               smtp_sink) -> None:
    """An agent disables the account while a recovery link is out (perhaps in a thief's hands): the link
    must not set a password that would be live again when the account is enabled."""
    account = make_account(pension)
    ask_pension(drive(pension.slug), account.email)
    link = smtp_sink.last_to(account.email).link
    driver = drive(pension.slug)
    assert open_link(driver, link).step == "new_password"   # opened before the agent acts...
    actions.disable(account, actor="agent:test", ip=None, reason="stolen mailbox")
    page = driver.submit({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}, "set_password")
    assert "recovery.link_dead" in page.notices   # ...saved after: refused
    assert open_link(drive(pension.slug), link).notices == ["recovery.link_dead"]
    assert not Challenge.objects.filter(account=account, used_at=None, replaced_at=None).exists()
    disabled = Event.objects.get(kind="account.disabled", account_id=account.pk)
    assert disabled.data["challenges_cancelled"] == 1 and disabled.actor == "agent:test"
    actions.enable(account, actor="agent:test", ip=None, reason="mailbox recovered")
    page = open_link(drive(pension.slug), link)
    assert page.notices == ["recovery.link_dead"]   # enabling does not revive it
    account.refresh_from_db()
    assert account.check_password(PASSWORD) and not account.check_password(NEW_PASSWORD)


def test_a_recovery_link_needs_an_active_account_when_opened_and_when_saved(drive, pension, make_account,
                                                                            smtp_sink) -> None:
    """The state is checked on its own, not only through the cancelled link: an account disabled by any other
    path (or by an agent at the very moment the password is saved) gets no password from a link."""
    account = make_account(pension)
    ask_pension(drive(pension.slug), account.email)
    link = smtp_sink.last_to(account.email).link
    Account.objects.filter(pk=account.pk).update(state=Account.State.DISABLED)   # the link itself still stands
    assert open_link(drive(pension.slug), link).notices == ["recovery.link_dead"]
    Account.objects.filter(pk=account.pk).update(state=Account.State.ACTIVE)
    driver = drive(pension.slug)
    assert open_link(driver, link).step == "new_password"
    Account.objects.filter(pk=account.pk).update(state=Account.State.DISABLED)
    page = driver.submit({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}, "set_password")
    assert "recovery.link_dead" in page.notices
    account.refresh_from_db()
    assert account.check_password(PASSWORD)
    assert Challenge.objects.get(purpose="recovery").used_at is None   # not spent by the refused attempt


def test_disabling_the_account_kills_the_code_sent_with_the_link(drive, health, make_account, smtp_sink) -> None:
    account = make_account(health)
    ask_health(drive(health.slug), account.identifier, account.email)
    email = smtp_sink.last_to(account.email)
    driver = drive(health.slug)
    assert open_link(driver, email.link).step == "verify_code"
    actions.disable(account, actor="agent:test", ip=None, reason="fraud suspected")
    actions.enable(account, actor="agent:test", ip=None, reason="cleared")
    page = driver.submit({"identifier": account.identifier, "code": email.code}, "verify")
    assert "recovery.link_dead" in page.notices and page.step != "new_password"
    assert set(Challenge.objects.filter(account=account).values_list("purpose", flat=True)) == {
        "recovery", "recovery_code"}
    assert not Challenge.objects.filter(account=account, replaced_at=None).exists()


def test_wrong_robot_answers_do_not_spend_the_members_allowance(drive, pension, make_account, smtp_sink) -> None:
    """A script posting a member's email with wrong robot answers must not lock the member out of recovery:
    the identifier's limit is counted only once the robot check is passed (the connection's limit before)."""
    account = make_account(pension)
    driver = drive(pension.slug)
    driver.open("recovery")
    for _ in range(8):   # more than the 5 an hour the identifier allows
        page = driver.submit({"email": account.email, "captcha": "1000"}, "continue")
        assert page.field_errors == {"captcha": ["captcha.wrong"]}, page
    assert not Message.objects.exists()
    for _ in range(5):   # the member's whole allowance is still there...
        page = ask_pension(drive(pension.slug), account.email)
        assert page.outcome == "done" and page.notices == ["recovery.sent_if_exists"], page
    assert Message.objects.filter(recipient=account.email).count() == 5
    page = ask_pension(drive(pension.slug), account.email)   # ...and still limited once spent
    assert page.notices == ["request.rate_limited"]
    assert Message.objects.count() == 5


def test_the_connections_limit_comes_before_the_robot_check(drive, pension, make_account) -> None:
    from guichet.journeys.recovery import PER_IP_LIMIT

    account = make_account(pension)
    driver = drive(pension.slug)
    driver.open("recovery")
    for _ in range(PER_IP_LIMIT):   # the real limit: wrong robot answers cost no hash, so this is quick
        assert driver.submit({"email": account.email, "captcha": "1000"}, "continue").field_errors == {
            "captcha": ["captcha.wrong"]}
    page = driver.submit({"email": account.email, "captcha": "1000"}, "continue")
    assert page.notices == ["request.rate_limited"] and not page.field_errors
