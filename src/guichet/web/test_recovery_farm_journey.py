"""The farm preset's recovery: a code then a temporary password for members who signed in before; a
security question, else a letter, for those who never did. Real emails, text messages and letters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from guichet.audit.models import Event
from guichet.challenges.models import Challenge
from guichet.channels.models import Message
from guichet.identities.models import Account
from guichet.web.journey_driver import Page
from guichet.web.test_recovery_journey import sign_in

pytestmark = pytest.mark.django_db

ADDRESS = "12 rue des Vignes\n79000 Niort"


def farm_member(make_account, farm, *, signed_in: bool, category: str = "individual",
                mobile: str = "06 12 34 56 78", **facts: object) -> Account:
    account = make_account(farm, factors=(), mobile=mobile, category=category, facts=facts, address=ADDRESS)
    if signed_in:
        Account.objects.filter(pk=account.pk).update(last_login=timezone.now() - timedelta(days=3))
    account.refresh_from_db()
    return account


def ask(driver, identifier: str, channel: str) -> Page:
    page = driver.open("recovery")
    assert page.step == "ask" and page.fields == ["identifier"]
    return ask_again(driver, identifier, channel)


def ask_again(driver, identifier: str, channel: str) -> Page:
    """The identifier and the channel, on a run already open."""
    page = driver.submit({"identifier": identifier}, "continue")
    assert page.step == "channel" and page.fields == ["channel"]
    return driver.submit({"channel": channel}, "next")


def temporary_password_in(text: str) -> str:
    """From the letter ("Mot de passe provisoire : ...") or the text message ("... provisoire est ... .")."""
    found = re.search(r"(?:[Mm]ot de passe provisoire (?:est|:)|[Tt]emporary password (?:is|:))\s*([^\s.]+)", text)
    assert found, text
    return found[1]


def test_member_who_signed_in_gets_a_code_then_a_temporary_password_by_email(drive, farm, make_account,
                                                                              smtp_sink) -> None:
    account = farm_member(make_account, farm, signed_in=True)
    driver = drive(farm.slug)
    page = ask(driver, account.identifier, "email")
    assert page.step == "code" and page.fields == ["code"] and "resend" in page.actions
    code = smtp_sink.last_to(account.email).code
    challenge = Challenge.objects.get(purpose="recovery")
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=30)   # "dans un délai de 30 min"
    wrong = "000000" if code != "000000" else "111111"
    assert driver.submit({"code": wrong}, "verify").field_errors == {"code": ["code.wrong"]}
    page = driver.submit({"code": code}, "verify")
    assert page.outcome == "done" and page.notices == ["recovery.temporary_sent_email"]
    password = smtp_sink.last_to(account.email).code
    account.refresh_from_db()
    assert account.must_change_password and account.check_password(password)
    assert sign_in(drive(farm.slug), account.identifier, password).step == "change_temporary_password"


def test_the_same_by_text_message(drive, farm, make_account, sms_sink) -> None:
    account = farm_member(make_account, farm, signed_in=True)
    driver = drive(farm.slug)
    page = ask(driver, account.identifier, "sms")
    assert page.step == "code"
    page = driver.submit({"code": sms_sink.last_to("+33612345678").code}, "verify")
    assert page.notices == ["recovery.temporary_sent_sms"]
    password = temporary_password_in(sms_sink.last_to("+33612345678").text)
    account.refresh_from_db()
    assert account.check_password(password)


def test_never_signed_in_right_answer_gets_the_password_on_the_chosen_channel(drive, farm, make_account,
                                                                               sms_sink) -> None:
    account = farm_member(make_account, farm, signed_in=False, recent_benefit_amount="1234.56")
    driver = drive(farm.slug)
    page = ask(driver, account.identifier, "sms")
    assert page.step == "question" and page.fields == ["answer"]
    assert "prestation" in page.text   # the individual's question whose answer is on the record
    page = driver.submit({"answer": "1 234,56 €"}, "next")
    assert page.outcome == "done" and page.notices == ["recovery.temporary_sent_sms"]
    account.refresh_from_db()
    assert account.check_password(temporary_password_in(sms_sink.last_to("+33612345678").text))
    assert not Message.objects.filter(channel="postal").exists()


def test_never_signed_in_wrong_answer_gets_a_letter_announced_by_text_message(drive, farm, make_account,
                                                                               sms_sink, postal_spool) -> None:
    account = farm_member(make_account, farm, signed_in=False, category="farmer",
                          contribution_invoice_amount="845,00")
    driver = drive(farm.slug)
    page = ask(driver, account.identifier, "sms")
    assert page.step == "question"
    page = driver.submit({"answer": "900"}, "next")
    assert page.outcome == "done" and page.notices == ["recovery.letter_sent"]
    letter = postal_spool.last()
    assert account.identifier in letter.text and "79000 Niort" in letter.text
    password = temporary_password_in(letter.text)
    account.refresh_from_db()
    assert account.must_change_password and account.check_password(password)
    assert "courrier" in sms_sink.last_to("+33612345678").text   # on the channel the member chose
    assert not Message.objects.filter(channel="email").exists()
    event = Event.objects.get(kind="recovery.question_answered")
    assert event.data == {"right": False, "fact": "contribution_invoice_amount"}


def test_a_third_party_has_no_question_and_gets_a_letter(drive, farm, make_account, sms_sink,
                                                         postal_spool) -> None:
    account = farm_member(make_account, farm, signed_in=False, category="third_party", mobile="")
    page = ask(drive(farm.slug), account.identifier, "email")
    assert page.outcome == "done" and page.notices == ["recovery.letter_sent"]
    assert temporary_password_in(postal_spool.last().text)
    assert Message.objects.filter(channel="email", template="letter_announce").count() == 1


def test_unknown_identifier_and_missing_channel_look_like_a_known_member(drive, farm, make_account,
                                                                         smtp_sink) -> None:
    known = farm_member(make_account, farm, signed_in=True)
    without_mobile = farm_member(make_account, farm, signed_in=True, mobile="")
    seen = []
    for identifier, channel in ((known.identifier, "sms"), ("12999999", "sms"), (without_mobile.identifier, "sms")):
        driver = drive(farm.slug)
        page = ask(driver, identifier, channel)
        wrong = driver.submit({"code": "000000"}, "verify")
        resend = driver.submit({}, "resend")
        seen.append([(p.status, p.step, p.title, p.notices, p.field_errors, p.fields, p.actions)
                     for p in (page, wrong, resend)])
    assert seen[0] == seen[1] == seen[2], seen
    assert Message.objects.filter(channel="sms").count() == 1   # only the known member's code was sent


def test_the_code_expires_and_its_failures_survive_a_resend(drive, farm, make_account, smtp_sink) -> None:
    account = farm_member(make_account, farm, signed_in=True)
    driver = drive(farm.slug)
    ask(driver, account.identifier, "email")
    code = smtp_sink.last_to(account.email).code
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        driver.submit({"code": wrong}, "verify")
    Challenge.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    from guichet.journeys.models import Run

    run = Run.objects.get(pk=driver.run)
    run.state["code_sent_at:recovery"] = (timezone.now() - timedelta(minutes=5)).isoformat()
    run.save()
    assert driver.submit({}, "resend").notices[-1:] == ["code.resent"] or "code.resent" in driver.submit(
        {}, "resend").notices
    fresh = Challenge.objects.get(used_at=None, replaced_at=None)
    assert fresh.attempts == 2
    Challenge.objects.filter(pk=fresh.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = driver.submit({"code": smtp_sink.last_to(account.email).code}, "verify")
    assert page.field_errors == {"code": ["code.expired"]}
    account.refresh_from_db()
    assert not account.must_change_password


def test_the_code_lives_its_30_minutes_however_long_the_request_took(drive, farm, make_account, smtp_sink) -> None:
    """The recovery journey lasts 45 minutes; a code sent 20 minutes into it still works 28 minutes later."""
    from guichet.web.test_first_login_journey import minutes_pass

    account = farm_member(make_account, farm, signed_in=True)
    driver = drive(farm.slug)
    driver.open("recovery")
    minutes_pass(driver.run, 20)   # the member took their time on the first screen
    assert ask_again(driver, account.identifier, "email").step == "code"
    code = smtp_sink.last_to(account.email).code
    minutes_pass(driver.run, 28)   # 48 minutes after the request began, 28 after the code was sent
    page = driver.submit({"code": code}, "verify")
    assert page.outcome == "done" and page.notices == ["recovery.temporary_sent_email"]


def test_an_account_disabled_during_the_run_gets_no_temporary_password(drive, farm, make_account, sms_sink,
                                                                      postal_spool) -> None:
    """Disabled by an agent while the member answers: neither the right answer nor the letter changes the
    password (it would be live again once the account is enabled); the same screens, audited for agents."""
    from guichet.conftest import PASSWORD
    from guichet.identities import actions

    right = farm_member(make_account, farm, signed_in=False, recent_benefit_amount="1234.56")
    wrong = farm_member(make_account, farm, signed_in=False, category="farmer", contribution_invoice_amount="845")
    pages = []
    for account, answer in ((right, "1 234,56"), (wrong, "900")):
        driver = drive(farm.slug)
        assert ask(driver, account.identifier, "sms").step == "question"
        Account.objects.filter(pk=account.pk).update(state=Account.State.DISABLED)
        pages.append(driver.submit({"answer": answer}, "next"))
    assert [p.notices for p in pages] == [["recovery.temporary_sent_sms"], ["recovery.letter_sent"]]
    assert not Message.objects.filter(template__in=("temporary_password", "recovery_letter",
                                                    "letter_announce")).exists()
    for account in (right, wrong):
        account.refresh_from_db()
        assert account.check_password(PASSWORD) and not account.must_change_password
        assert Event.objects.filter(kind="recovery.account_inactive", account_id=account.pk).exists()
    # The code path: the agent's disabling kills the code already sent.
    signed_in = farm_member(make_account, farm, signed_in=True)
    driver = drive(farm.slug)
    assert ask(driver, signed_in.identifier, "sms").step == "code"
    code = sms_sink.last_to("+33612345678").code
    actions.disable(signed_in, actor="agent:test", ip=None, reason="fraud suspected")
    actions.enable(signed_in, actor="agent:test", ip=None, reason="cleared")
    page = driver.submit({"code": code}, "verify")
    assert page.field_errors == {"code": ["code.missing"]}
    signed_in.refresh_from_db()
    assert signed_in.check_password(PASSWORD) and not signed_in.must_change_password
