"""The health mutual's "Update my account" (registering again, for an active account without an email address),
through both renderers. Registry details (a public FINESS number, the end of an IBAN) and a mailbox are never
enough: the owner must agree with a code sent to the account's mobile, or by post to the registry's address, and
is told of the change there, not only at the new address."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from guichet.audit.models import Event
from guichet.challenges import secrets
from guichet.challenges.models import Challenge
from guichet.channels.models import Message
from guichet.identities import lookup
from guichet.identities.lookup import mask_phone
from guichet.identities.models import Account
from guichet.registry.models import MemberRecord
from guichet.web.journey_driver import Page
from guichet.web.test_registration_journey import (
    NEW_PASSWORD,
    add_member,
    finess,
    link_to,
    open_link,
    register_health,
)

pytestmark = pytest.mark.django_db

MOBILE = "+33612345678"
ADDRESS = "Cabinet Dupont\n12 rue des Lilas\n33000 Bordeaux"
OWNER_LINES = ("12 rue des Lilas", "33000 Bordeaux")
FORM_PASSWORD = "Typed-In-The-Form-31"   # typed in the registration form: never kept for an active account


@pytest.fixture
def new_member_screen(drive: Any, health: Any) -> tuple[str, str, list[str]]:
    """What a member registering for the first time sees: every update request must look the same."""
    member = add_member(health, finess(7), email="cabinet@example.org", iban_suffix="480197AB12")
    page = register_health(drive(health.slug), member)
    return page.outcome, page.title, page.notices


def shown(page: Page) -> tuple[str, str, list[str]]:
    return page.outcome, page.title, page.notices


def letter_of(postal_spool: Any, template: str, containing: str = "") -> Any:
    return next(letter for letter in reversed(postal_spool.letters())
                if letter.description["template"] == template and containing in letter.text)


def account_without_email(make_account: Any, health: Any, *, mobile: str = "", address: str = "") -> Account:
    account = make_account(health, iban_suffix="FR7612345", factors=(), mobile=mobile, address=address)
    Account.objects.filter(pk=account.pk).update(email="", email_verified_at=None)
    account.refresh_from_db()
    return account


def ask_update(drive: Any, health: Any, account: Account, address: str) -> Page:
    """Register again with the account's registry details and `address`: anybody who knows them can."""
    member: MemberRecord | None = account.member
    assert member is not None
    return register_health(drive(health.slug), member, iban_suffix="12345", email=address,
                           email_confirmation=address, password=FORM_PASSWORD)


def fill(code: str, password: str = NEW_PASSWORD) -> dict[str, str]:
    return {"code": code, "new_password": password, "confirm_password": password}


def code_in_letter(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Code de confirmation"))
    return next(line for line in lines[start + 1:] if re.fullmatch(r"\d{6}", line))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def unchanged(account: Account) -> bool:
    from guichet.conftest import PASSWORD

    account.refresh_from_db()
    return account.email == "" and lookup.password_matches(account, PASSWORD)


# With a mobile on the account: a code by text message, asked from the page -----------------------------------

def test_with_a_mobile_the_owner_agrees_by_a_texted_code_and_is_told_by_text_and_letter(
        drive, health, new_member_screen, make_account, smtp_sink, sms_sink, postal_spool) -> None:
    from guichet.identities import actions
    from guichet.identities.models import LoginThrottle, RememberedDevice

    account = account_without_email(make_account, health, mobile=MOBILE, address=ADDRESS)
    actions.remember_device(account, days=30, label="old tablet", now=timezone.now(), ip=None)
    for _ in range(3):   # the member forgot the password and is locked out: no email ever told them
        login = drive(health.slug)
        login.open("login")
        login.submit({"identifier": account.identifier, "password": "not-it"}, "sign_in")
    assert LoginThrottle.objects.get().locked_until is not None
    page = ask_update(drive, health, account, "nouveau@example.org")
    assert shown(page) == new_member_screen   # the same screen as a new member's (no enumeration)
    assert unchanged(account)
    assert Event.objects.get(kind="registration.update_link_sent", account_id=account.pk).data["proof"] == "sms"

    email = smtp_sink.last_to("nouveau@example.org")
    assert email.subject.startswith("Mettez à jour votre compte") and "par SMS" in email.body
    driver = drive(health.slug)
    page = open_link(driver, email.link)
    assert page.step == "update_proof" and page.fields == [] and page.actions == ["send_code"]
    assert "nouveau@example.org" in page.text and page.notices == ["registration.update_intro_sms"]
    assert not Message.objects.filter(channel="sms").exists()   # opening the link (a mail scanner) sends nothing
    page = driver.submit({}, "send_code")
    assert page.step == "update_account" and page.fields == ["code", "new_password", "confirm_password"]
    assert page.notices == ["registration.update_intro", "registration.update_code_sms"]
    assert mask_phone(MOBILE) not in page.text   # the number is not shown to whoever holds the link
    sms = sms_sink.last_to(MOBILE)
    assert "nouveau@example.org" in sms.text and "01 98 76 54 32" in sms.text   # what it allows; whom to call
    page = driver.submit(fill(sms.code, "Abcdefg1"), "update")   # weak: refused before the code is spent
    assert "new_password" in page.field_errors
    page = driver.submit(fill(wrong(sms.code)), "update")
    assert page.field_errors == {"code": ["code.wrong"]} and unchanged(account)
    page = driver.submit(fill(sms.code), "update")
    assert page.outcome == "done" and page.notices == ["registration.account_updated"]

    account.refresh_from_db()
    assert account.email == "nouveau@example.org" and account.email_verified_at is not None
    assert account.state == "active" and lookup.password_matches(account, NEW_PASSWORD)
    assert not lookup.password_matches(account, FORM_PASSWORD)
    assert RememberedDevice.objects.get(account=account).revoked_at is not None
    kinds = list(Event.objects.filter(account_id=account.pk, kind__startswith="registration.update").values_list(
        "kind", flat=True).order_by("id"))
    assert kinds == ["registration.update_link_sent", "registration.update_code_sent",
                     "registration.update_code_refused", "registration.update_owner_told"]
    assert Event.objects.get(kind="registration.update_owner_told").data["channels"] == ["sms", "postal"]
    assert Event.objects.get(kind="password.changed", data__reason="account_update").account_id == account.pk
    # The owner is told on the channels already on record, not only at the new address.
    told = sms_sink.last_to(MOBILE)
    assert told.text != sms.text and "nouveau@example.org" in told.text and "contactez-nous" in told.text
    letter = letter_of(postal_spool, "account_updated")
    assert all(line in letter.text for line in OWNER_LINES) and "nouveau@example.org" in letter.text
    assert "Mettre à jour mon compte" in letter.text and "01 98 76 54 32" in letter.text
    assert len(postal_spool.letters()) == 1   # with a mobile, no letter before the change
    assert smtp_sink.last_to("nouveau@example.org").subject.startswith("Votre mot de passe a été modifié")
    login = drive(health.slug)
    login.open("login")   # the lock-out is cleared: the address and the owner's phone were proven
    assert login.submit({"identifier": account.identifier, "password": NEW_PASSWORD}, "sign_in").outcome == \
        "signed_in"
    page = open_link(drive(health.slug), email.link)
    assert page.outcome == "done" and page.notices == ["registration.link_invalid"]


def test_registry_details_and_a_mailbox_without_the_owners_phone_change_nothing(
        drive, health, make_account, smtp_sink, sms_sink, postal_spool) -> None:
    account = account_without_email(make_account, health, mobile=MOBILE, address=ADDRESS)
    ask_update(drive, health, account, "intrus@example.org")
    driver = drive(health.slug)
    open_link(driver, link_to(smtp_sink, "intrus@example.org"))
    page = driver.submit({}, "send_code")
    real = sms_sink.last_to(MOBILE).code   # on the owner's phone, not the intruder's
    for remaining in range(4, 0, -1):
        page = driver.submit(fill(wrong(real)), "update")
        assert page.field_errors == {"code": ["code.wrong"]} and f"{remaining}" in page.text
    page = driver.submit(fill(wrong(real)), "update")
    assert page.outcome == "done" and page.notices == ["registration.update_code_exhausted"]
    assert unchanged(account)
    assert Event.objects.filter(kind="registration.update_code_refused", account_id=account.pk).count() == 5
    page = open_link(drive(health.slug), link_to(smtp_sink, "intrus@example.org"))   # the link died with it
    assert page.outcome == "done" and page.notices == ["registration.link_invalid"]
    assert not Message.objects.filter(template="account_updated").exists()


def test_texts_to_the_owner_wait_between_them_and_are_limited_per_day_whatever_the_runs(
        drive, health, make_account, smtp_sink, sms_sink) -> None:
    account = account_without_email(make_account, health, mobile=MOBILE)
    ask_update(drive, health, account, "nouveau@example.org")
    url = link_to(smtp_sink, "nouveau@example.org")
    driver = drive(health.slug)
    open_link(driver, url)
    driver.submit({}, "send_code")
    page = driver.submit({}, "resend")
    assert "code.wait" in page.notices
    for _ in range(4):   # every new page from the link counts on the same account: 5 texts a day in all
        other = drive(health.slug)
        open_link(other, url)
        assert other.submit({}, "send_code").step == "update_account"
    other = drive(health.slug)
    open_link(other, url)
    page = other.submit({}, "send_code")
    assert page.step == "update_proof" and "code.too_many_sends" in page.notices
    assert Message.objects.filter(channel="sms", template="account_update_code").count() == 5


def test_the_update_link_is_refused_once_the_account_has_an_address(drive, health, make_account, smtp_sink,
                                                                    sms_sink) -> None:
    account = account_without_email(make_account, health, mobile=MOBILE)
    for address in ("premier@example.org", "second@example.org"):
        ask_update(drive, health, account, address)
    first, second = link_to(smtp_sink, "premier@example.org"), link_to(smtp_sink, "second@example.org")
    page = open_link(drive(health.slug), first)   # replaced by the second request
    assert page.outcome == "done" and page.notices == ["registration.link_invalid"]
    driver = drive(health.slug)
    assert open_link(driver, second).step == "update_proof"
    driver.submit({}, "send_code")
    Account.objects.filter(pk=account.pk).update(email="agent@example.org")   # an agent set one meanwhile
    assert open_link(drive(health.slug), second).notices == ["registration.link_invalid"]   # not opened again
    page = driver.submit(fill(sms_sink.last_to(MOBILE).code), "update")
    assert page.outcome == "done" and page.notices == ["registration.link_invalid"]
    account.refresh_from_db()
    assert account.email == "agent@example.org" and not lookup.password_matches(account, NEW_PASSWORD)
    assert Event.objects.filter(kind="registration.update_refused", account_id=account.pk).exists()
    assert not Message.objects.filter(template="account_updated").exists()


# Without a mobile: a code by post to the registry's address --------------------------------------------------

def test_without_a_mobile_the_code_comes_by_post_and_the_owner_is_told_by_letter(
        drive, health, new_member_screen, make_account, smtp_sink, postal_spool) -> None:
    account = account_without_email(make_account, health, address=ADDRESS)
    page = ask_update(drive, health, account, "nouveau@example.org")
    assert shown(page) == new_member_screen
    assert unchanged(account)
    letter = letter_of(postal_spool, "account_update_letter")   # at once: the owner knows before any change
    assert all(line in letter.text for line in OWNER_LINES) and "nouveau@example.org" in letter.text
    code = code_in_letter(letter.text)
    email = smtp_sink.last_to("nouveau@example.org")
    assert "par courrier" in email.body and code not in email.body
    link = Challenge.objects.get(purpose="account_update", account=account)
    assert link.expires_at - link.created_at == timedelta(days=30)   # time for the letter to arrive

    page = ask_update(drive, health, account, "nouveau@example.org")   # again: no second letter
    assert len(postal_spool.letters()) == 1
    assert Event.objects.filter(kind="registration.update_letter_pending", account_id=account.pk).exists()
    email = smtp_sink.last_to("nouveau@example.org")   # the newer link, with the same letter's code
    driver = drive(health.slug)
    page = open_link(driver, email.link)
    assert page.step == "update_account" and page.fields == ["code", "new_password", "confirm_password"]
    assert page.notices == ["registration.update_intro", "registration.update_code_letter"]
    assert page.actions == ["update"]   # no text message to ask for
    page = driver.submit(fill(wrong(code)), "update")
    assert page.field_errors == {"code": ["code.wrong"]} and unchanged(account)
    page = driver.submit(fill(code), "update")
    assert page.outcome == "done" and page.notices == ["registration.account_updated"]
    account.refresh_from_db()
    assert account.email == "nouveau@example.org" and lookup.password_matches(account, NEW_PASSWORD)
    told = letter_of(postal_spool, "account_updated")
    assert "nouveau@example.org" in told.text
    assert all(line in told.text for line in OWNER_LINES)
    assert Event.objects.get(kind="registration.update_owner_told").data["channels"] == ["postal"]


def test_a_letters_code_works_only_for_the_address_it_names_and_letters_are_limited(
        drive, health, make_account, smtp_sink, postal_spool) -> None:
    account = account_without_email(make_account, health, address=ADDRESS)
    for address in ("a@example.org", "b@example.org", "c@example.org"):   # each names another address: a letter
        ask_update(drive, health, account, address)
    assert len(postal_spool.letters()) == 3
    first = code_in_letter(letter_of(postal_spool, "account_update_letter", "a@example.org").text)
    last = code_in_letter(letter_of(postal_spool, "account_update_letter", "c@example.org").text)
    ask_update(drive, health, account, "d@example.org")   # 3 letters a period: no fourth
    assert len(postal_spool.letters()) == 3
    assert Event.objects.filter(kind="registration.update_letter_limited", account_id=account.pk).exists()
    driver = drive(health.slug)
    open_link(driver, link_to(smtp_sink, "d@example.org"))
    page = driver.submit(fill(last), "update")   # the letter the owner holds allows c@, not d@
    assert page.outcome == "done" and page.notices == ["registration.update_letter_dead"]
    assert unchanged(account)
    assert Event.objects.get(kind="registration.update_code_refused").data == {"channel": "postal",
                                                                               "check": "missing"}
    if first != last:   # a replaced letter's code is no code either
        assert not secrets.check_code(scope=f"account:{account.pk}", purpose="account_update_letter", code=first,
                                      now=timezone.now()).ok


def test_without_mobile_or_postal_address_nothing_is_offered_online(drive, health, new_member_screen, make_account,
                                                                    smtp_sink, postal_spool) -> None:
    account = account_without_email(make_account, health)
    page = ask_update(drive, health, account, "nouveau@example.org")
    assert shown(page) == new_member_screen
    email = smtp_sink.last_to("nouveau@example.org")
    assert "contactez-nous" in email.body and "http" not in email.body.split("--")[0]   # no link to follow
    assert not Challenge.objects.filter(purpose="account_update").exists()
    assert Event.objects.filter(kind="registration.update_impossible", account_id=account.pk).exists()
    assert not postal_spool.letters() and unchanged(account)


def test_a_link_sent_before_the_owner_was_asked_no_longer_opens(drive, health, make_account, smtp_sink) -> None:
    """Links already in mailboxes when this check arrived allowed the change on their own: they are dead."""
    account = account_without_email(make_account, health, mobile=MOBILE, address=ADDRESS)
    issued = secrets.issue_link(organisation=health, purpose="account_update", lifetime=timedelta(hours=24),
                                now=timezone.now(), account=account, data={"email": "ancien@example.org"})
    page = open_link(drive(health.slug), f"http://testserver/o/{health.slug}/inscription/?lien={issued.secret}")
    assert page.outcome == "done" and page.notices == ["registration.link_invalid"]
    assert unchanged(account)


def test_a_disabled_account_without_email_gets_the_same_screen_and_nothing_is_sent(
        drive, health, new_member_screen, make_account, smtp_sink, postal_spool) -> None:
    account = account_without_email(make_account, health, mobile=MOBILE, address=ADDRESS)
    Account.objects.filter(pk=account.pk).update(state="disabled")
    page = ask_update(drive, health, account, "x@example.org")
    assert shown(page) == new_member_screen
    assert not Message.objects.filter(recipient="x@example.org").exists() and not postal_spool.letters()
    account.refresh_from_db()
    assert account.email == "" and account.state == "disabled"


def test_a_record_no_longer_in_the_registry_is_not_found_and_no_code_goes_to_its_address(
        drive, health, make_account, postal_spool) -> None:
    from guichet.identities import actions
    from guichet.identities.actions.account_update import postal_address

    account = account_without_email(make_account, health, address=ADDRESS)
    assert actions.proof_for(account) == "postal"
    MemberRecord.objects.filter(account=account).update(retired_at=timezone.now())
    account.refresh_from_db()
    # The address may no longer be the member's: no code by post (nor the notice of a change made).
    assert actions.proof_for(account) == "" and postal_address(account) == []
    page = ask_update(drive, health, account, "nouveau@example.org")
    assert page.step == "identity" and "registration.no_match" in page.notices
    assert not postal_spool.letters() and unchanged(account)
