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
from guichet.registry.models import MemberRecord
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


@pytest.mark.parametrize(("email", "mobile", "channel"), [
    ("", "", "sms"), ("", "", "email"),                      # no contact at all: the letter is the only way back
    ("membre@example.org", "", "sms"),                       # no mobile for the channel chosen
])
def test_never_signed_in_without_the_chosen_channel_gets_the_question_then_a_letter(
        drive, farm, make_account, smtp_sink, postal_spool, email: str, mobile: str, channel: str) -> None:
    account = farm_member(make_account, farm, signed_in=False, mobile=mobile, recent_benefit_amount="1234.56")
    Account.objects.filter(pk=account.pk).update(email=email)
    driver = drive(farm.slug)
    page = ask(driver, account.identifier, channel)
    assert page.step == "question"                           # not a code screen whose code goes nowhere
    page = driver.submit({"answer": "1234,56"}, "next")      # right, but nowhere to send the password to
    assert page.outcome == "done" and page.notices == ["recovery.letter_sent"]
    password = temporary_password_in(postal_spool.last().text)
    account.refresh_from_db()
    assert account.must_change_password and account.check_password(password)
    assert not Message.objects.filter(template="temporary_password").exists()
    announced = Message.objects.filter(template="letter_announce").values_list("channel", flat=True)
    assert list(announced) == (["email"] if email else [])


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


def cool_down(driver) -> None:
    """The resend cool-down is over (the code was sent a minute ago)."""
    from guichet.journeys.models import Run

    run = Run.objects.get(pk=driver.run)
    run.state["code_sent_at:recovery"] = (timezone.now() - timedelta(minutes=1)).isoformat()
    run.save()


def wrong_answer(drive, farm, account: Account) -> Page:
    driver = drive(farm.slug)
    assert ask(driver, account.identifier, "sms").step == "question"
    return driver.submit({"answer": "1"}, "next")


def letter_date(message: Message) -> str:
    from django.utils import formats, translation

    with translation.override("fr"):
        return formats.date_format(timezone.localtime(message.created_at), "DATE_FORMAT")


def test_one_letter_a_week_however_often_a_stranger_answers_wrong(drive, farm, make_account, sms_sink,
                                                                  postal_spool) -> None:
    """recovery.never_connected.letter_every (7 days): a new letter would kill the one in the post, and a
    stranger who knows the identifier could ask for one every few minutes."""
    account = farm_member(make_account, farm, signed_in=False, category="farmer",
                          contribution_invoice_amount="845,00")
    third_party = farm_member(make_account, farm, signed_in=False, category="third_party")
    assert wrong_answer(drive, farm, account).notices == ["recovery.letter_sent"]
    assert ask(drive(farm.slug), third_party.identifier, "sms").notices == ["recovery.letter_sent"]
    in_the_post = {a.pk: temporary_password_in(letter.text)
                   for a, letter in zip((account, third_party), postal_spool.letters(), strict=True)}
    assert len(sms_sink.wait_for(2)) == 2   # the two announcements
    announced = Message.objects.filter(template="letter_announce").count()
    for _ in range(2):
        for page in (wrong_answer(drive, farm, account), ask(drive(farm.slug), third_party.identifier, "sms")):
            assert page.outcome == "done" and page.notices == ["recovery.letter_already_sent"]
    for member in (account, third_party):
        letter = Message.objects.get(channel="postal", account_id=member.pk)
        page = wrong_answer(drive, farm, account) if member is account else \
            ask(drive(farm.slug), third_party.identifier, "sms")
        assert letter_date(letter) in page.text and "contacter" in page.text
        member.refresh_from_db()
        assert member.check_password(in_the_post[member.pk])   # the letter in the post still works
    assert len(postal_spool.letters()) == 2
    assert Message.objects.filter(template="letter_announce").count() == announced   # no more text messages
    assert len(sms_sink.wait_for(2)) == 2
    assert Event.objects.filter(kind="recovery.letter_held_back").count() == 6
    # A week later, a letter that has not arrived may be followed by another.
    Message.objects.filter(channel="postal").update(created_at=timezone.now() - timedelta(days=7, minutes=1))
    assert wrong_answer(drive, farm, account).notices == ["recovery.letter_sent"]
    assert len(postal_spool.letters()) == 3
    account.refresh_from_db()
    assert not account.check_password(in_the_post[account.pk])


def test_a_letter_from_an_agent_or_the_provisioning_also_holds_back_a_new_one(drive, farm, make_account, sms_sink,
                                                                                postal_spool) -> None:
    from guichet.channels import outbox

    account = farm_member(make_account, farm, signed_in=False, category="farmer",
                          contribution_invoice_amount="845,00")
    outbox.send_letter(farm, address=["Marie Dupont", "12 rue des Vignes", "79000 Niort"],
                       template="temporary_password", context={"password": "Abcdefgh2345", "days": 30},
                       language="fr", account_id=account.pk)
    assert wrong_answer(drive, farm, account).notices == ["recovery.letter_already_sent"]
    account.refresh_from_db()
    assert not account.must_change_password   # the password did not change


def lock_out(drive, farm, account: Account) -> None:
    from guichet.identities.models import LoginThrottle

    driver = drive(farm.slug)
    for _ in range(farm.policy.login.lockout.max_failures):
        assert sign_in(driver, account.identifier, "Wrong-Password-1").notices == ["login.invalid"]
    locked_until = LoginThrottle.objects.get().locked_until
    assert locked_until is not None and locked_until > timezone.now()


@pytest.mark.parametrize("way", ["code", "right_answer"])
def test_a_temporary_password_after_a_right_code_or_answer_ends_the_lock_out(way, drive, farm, make_account,
                                                                             sms_sink) -> None:
    account = farm_member(make_account, farm, signed_in=way == "code", recent_benefit_amount="1234.56")
    lock_out(drive, farm, account)
    driver = drive(farm.slug)
    page = ask(driver, account.identifier, "sms")
    if way == "code":
        page = driver.submit({"code": sms_sink.last_to("+33612345678").code}, "verify")
    else:
        page = driver.submit({"answer": "1234,56"}, "next")
    assert page.notices == ["recovery.temporary_sent_sms"]
    password = temporary_password_in(sms_sink.last_to("+33612345678").text)
    assert sign_in(drive(farm.slug), account.identifier, password).step == "change_temporary_password"


def test_a_letter_after_a_wrong_answer_does_not_end_the_lock_out(drive, farm, make_account, sms_sink,
                                                                  postal_spool) -> None:
    """A stranger's wrong answer must not unlock the account: the member signs in once the lock is over."""
    from guichet.identities.models import LoginThrottle

    account = farm_member(make_account, farm, signed_in=False, category="farmer",
                          contribution_invoice_amount="845,00")
    lock_out(drive, farm, account)
    assert wrong_answer(drive, farm, account).notices == ["recovery.letter_sent"]
    password = temporary_password_in(postal_spool.last().text)
    assert sign_in(drive(farm.slug), account.identifier, password).notices == ["login.invalid"]
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert sign_in(drive(farm.slug), account.identifier, password).step == "change_temporary_password"


def send_codes(drive, farm, identifier: str, resends: int) -> list[Page]:
    """A new run: the first code, then `resends` more."""
    driver = drive(farm.slug)
    pages = [ask(driver, identifier, "sms")]
    for _ in range(resends):
        cool_down(driver)
        pages.append(driver.submit({}, "resend"))
    return pages


def test_codes_are_capped_per_account_across_runs(clock, drive, farm, make_account, sms_sink) -> None:
    """recovery.code.max_sends (5) an hour for one account, however many runs; an unknown identifier is
    answered the same way (its codes, sent nowhere, are counted the same). The count is per clock hour, so
    the clock is pinned: a run across the hour's end would start counting again half-way."""
    account = farm_member(make_account, farm, signed_in=True)
    assert farm.policy.recovery.code.max_sends == 5
    seen = []
    for identifier in (account.identifier, "12999999"):
        first, second, third = (send_codes(drive, farm, identifier, 2), send_codes(drive, farm, identifier, 2),
                                send_codes(drive, farm, identifier, 0))
        assert [p.notices[-1:] for p in first] == [["recovery.code_sent_sms"], ["code.resent"], ["code.resent"]]
        assert [p.notices[-1:] for p in second[:2]] == [["recovery.code_sent_sms"], ["code.resent"]]
        for refused in (second[2], third[0]):   # the 6th code in that run, then the first of a new run
            assert refused.notices == ["code.too_many_sends"] and refused.outcome == "done"   # start again later
        assert third[0].title == second[2].title and third[0].status == second[2].status
        seen.append([(p.status, p.step, p.title, p.notices, p.fields) for p in first + second + third])
    assert seen[0] == seen[1]
    assert Message.objects.filter(channel="sms").count() == 5
    assert len(sms_sink.wait_for(5)) == 5
    clock.advance(timedelta(hours=1))   # the next hour: codes go out again
    assert send_codes(drive, farm, account.identifier, 0)[0].notices[-1:] == ["recovery.code_sent_sms"]
    assert len(sms_sink.wait_for(6)) == 6


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


def test_an_address_no_letter_can_carry_is_like_no_address(drive, farm, make_account, sms_sink,
                                                           postal_spool) -> None:
    """A record imported before the import checked addresses (8 lines with the name): the member gets the same
    screen, the password does not change, nothing is sent, and the agents see why."""
    from guichet.conftest import PASSWORD

    account = farm_member(make_account, farm, signed_in=False, category="third_party", mobile="")
    MemberRecord.objects.filter(account=account).update(address="\n".join(f"Ligne {i}" for i in range(1, 8)))
    page = ask(drive(farm.slug), account.identifier, "email")
    assert page.outcome == "done" and page.notices == ["recovery.letter_sent"]
    account.refresh_from_db()
    assert account.check_password(PASSWORD) and not account.must_change_password
    assert not Message.objects.filter(template__in=("recovery_letter", "letter_announce")).exists()
    assert Event.objects.filter(kind="recovery.letter_impossible", account_id=account.pk).exists()


def test_a_retired_record_is_asked_no_question_and_its_address_gets_no_letter(drive, farm, make_account,
                                                                               smtp_sink, postal_spool) -> None:
    """Its facts prove nothing either: a right answer must not send a password to contacts copied from it."""
    account = farm_member(make_account, farm, signed_in=False, recent_benefit_amount="1234.56")
    MemberRecord.objects.filter(account=account).update(retired_at=timezone.now())
    page = ask(drive(farm.slug), account.identifier, "email")
    assert page.outcome == "done" and page.notices == ["recovery.letter_sent"]   # the same screen, no question
    assert not Message.objects.filter(template__in=("temporary_password", "recovery_letter")).exists()
    assert Event.objects.filter(kind="recovery.letter_impossible", account_id=account.pk).exists()


def test_no_letter_to_the_address_of_a_record_no_longer_in_the_registry(drive, farm, make_account, sms_sink,
                                                                        postal_spool) -> None:
    """A complete import retired the record: its address may no longer be the member's. The member sees the
    same screen, the password does not change, nothing is sent, and the agents see why."""
    from guichet.conftest import PASSWORD

    account = farm_member(make_account, farm, signed_in=False, category="third_party", mobile="")
    MemberRecord.objects.filter(account=account).update(retired_at=timezone.now())
    page = ask(drive(farm.slug), account.identifier, "email")
    assert page.outcome == "done" and page.notices == ["recovery.letter_sent"]
    account.refresh_from_db()
    assert account.check_password(PASSWORD) and not account.must_change_password
    assert not Message.objects.filter(template__in=("recovery_letter", "letter_announce")).exists()
    assert Event.objects.filter(kind="recovery.letter_impossible", account_id=account.pk).exists()
