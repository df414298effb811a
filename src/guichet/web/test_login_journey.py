"""The sign-in journey of the three presets, through both renderers, with codes read from real emails."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from guichet.audit.models import Event
from guichet.conftest import PASSWORD
from guichet.identities.models import Account, Factor, LoginThrottle, RememberedDevice
from guichet.organisations.models import Organisation
from guichet.security import devices
from guichet.web.journey_driver import Page

pytestmark = pytest.mark.django_db


def code_from(sink, address: str, length: int = 6) -> str:
    from guichet.channels.testing import deliver_all

    deliver_all()
    message = sink.last_to(address)
    match = re.search(rf"\b(\d{{{length}}})\b", message.body)
    assert match, message.body
    return match[1]


def sign_in_password(driver, identifier: str, password: str = PASSWORD):
    page = driver.open("login")
    assert page.step == "credentials" and {"identifier", "password"} <= set(page.fields)
    return driver.submit({"identifier": identifier, "password": password}, "sign_in")


def test_pension_fund_password_then_emailed_six_digit_code(drive, pension, make_account, smtp_sink) -> None:
    account = make_account(pension, email="melkior.dupont@gmail.com")
    driver = drive(pension.slug)
    page = sign_in_password(driver, "  Melkior.Dupont@Gmail.com ")   # any spelling of the same email
    assert page.step == "second_factor"
    assert "code.sent_email" in page.notices and "melk*****@gmail*****" in page.text
    assert {"code", "remember"} <= set(page.fields) and "resend" in page.actions
    code = code_from(smtp_sink, account.email)
    assert len(code) == 6
    wrong = "000000" if code != "000000" else "111111"
    page = driver.submit({"code": wrong}, "verify")
    assert page.field_errors == {"code": ["code.wrong"]}
    page = driver.submit({"code": code}, "verify")
    assert page.outcome == "signed_in"
    assert Event.objects.filter(kind="login.succeeded", account_id=account.pk).exists()
    assert driver.client.get(f"/api/o/{pension.slug}/session").json()["method"] == "password+code"


def test_the_code_expires_after_the_policy_lifetime(drive, pension, make_account, smtp_sink) -> None:
    from guichet.challenges.models import Challenge

    account = make_account(pension)
    driver = drive(pension.slug)
    sign_in_password(driver, account.email)
    code = code_from(smtp_sink, account.email)
    challenge = Challenge.objects.get(purpose="login", used_at=None, replaced_at=None)
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=5)   # the guide's 5 minutes
    Challenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = driver.submit({"code": code}, "verify")
    assert page.field_errors == {"code": ["code.expired"]}


def test_a_code_sent_late_in_the_sign_in_lives_its_whole_life(drive, pension, make_account, smtp_sink) -> None:
    """The sign-in journey lasts 20 minutes; a 5-minute code sent in its 18th minute still works in its 22nd."""
    from guichet.web.test_first_login_journey import minutes_pass

    account = make_account(pension)
    driver = drive(pension.slug)
    driver.open("login")
    minutes_pass(driver.run, 18)   # the sign-in page stayed open
    assert driver.submit({"identifier": account.email, "password": PASSWORD}, "sign_in").step == "second_factor"
    code = code_from(smtp_sink, account.email)
    minutes_pass(driver.run, 4)
    assert driver.submit({"code": code}, "verify").outcome == "signed_in"


def test_unknown_identifier_wrong_password_and_locked_account_look_the_same(drive, health, make_account) -> None:
    account = make_account(health)
    driver = drive(health.slug)
    answers = []
    for identifier, password in [("999999999", PASSWORD), (account.identifier, "wrong")]:
        page = sign_in_password(driver, identifier, password)
        answers.append((page.status, page.step, page.notices, page.field_errors))
    LoginThrottle.objects.all().delete()
    for _ in range(3):
        sign_in_password(driver, account.identifier, "wrong")
    page = sign_in_password(driver, account.identifier, PASSWORD)   # right password, but locked
    answers.append((page.status, page.step, page.notices, page.field_errors))
    assert len(set(map(repr, answers))) == 1, answers
    assert answers[0][2] == ["login.invalid"]


def test_health_mutual_three_failures_lock_two_hours_then_escalate(drive, health, make_account, smtp_sink) -> None:
    from guichet.channels.testing import deliver_all

    account = make_account(health, factors=())
    driver = drive(health.slug)
    for _ in range(3):
        sign_in_password(driver, account.identifier, "wrong")
    throttle = LoginThrottle.objects.get()
    assert throttle.locks == 1 and throttle.locked_until is not None
    assert abs((throttle.locked_until - timezone.now()) - timedelta(hours=2)) < timedelta(minutes=1)
    deliver_all()
    assert smtp_sink.last_to(account.email)   # the member is told by email
    assert sign_in_password(driver, account.identifier, PASSWORD).notices == ["login.invalid"]
    # Two hours later: one more failure locks again at once, for twice as long.
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    sign_in_password(driver, account.identifier, "wrong")
    throttle.refresh_from_db()
    assert throttle.locks == 2 and throttle.locked_until is not None
    assert abs((throttle.locked_until - timezone.now()) - timedelta(hours=4)) < timedelta(minutes=1)
    # Once the lock is over, the right password signs in and clears the record.
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert sign_in_password(driver, account.identifier, PASSWORD).outcome == "signed_in"
    assert not LoginThrottle.objects.exists()


def test_guesses_counted_while_a_right_password_is_hashed_lock_it_out(drive, health, make_account,
                                                                    monkeypatch) -> None:
    """A burst of guesses at once: their failures are recorded while the right password's hash runs (simulated
    by sending them from inside that hash, a test double of Django's hasher only). The right password must then
    find the lock, as it would had it come after them: a burst gets no more than the rule's tries."""
    from django.contrib.auth.hashers import check_password as real_check

    account = make_account(health, factors=())
    burst: list[str] = []

    def check_while_the_burst_lands(password, encoded, *args, **kwargs):
        if password == PASSWORD and not burst:
            burst.append(password)
            for _ in range(health.policy.login.lockout.max_failures):
                assert "login.invalid" in sign_in_password(drive(health.slug), account.identifier, "wrong").notices
        return real_check(password, encoded, *args, **kwargs)

    # Where AbstractBaseUser.check_password finds Django's hasher function.
    monkeypatch.setattr("django.contrib.auth.base_user.check_password", check_while_the_burst_lands)
    page = sign_in_password(drive(health.slug), account.identifier)
    assert burst and page.outcome != "signed_in" and "login.invalid" in page.notices
    assert Event.objects.filter(kind="login.failed", data__reason="locked").count() == 1


def test_failures_are_forgotten_after_a_quiet_day(drive, health, make_account) -> None:
    """lockout.forget_after (24 hours): old failures and locks do not add to today's, so a typo does not
    lock out a member who was locked last month; within the day, escalation holds."""
    account = make_account(health, factors=())
    driver = drive(health.slug)
    text = " ".join(driver.open("login").text.split())
    assert "après 3 tentatives de connexion en échec, l’accès à votre espace est bloqué durant 2 heures" in text
    assert "Si les échecs continuent ensuite, le blocage dure chaque fois plus longtemps." in text   # ours
    for _ in range(3):
        sign_in_password(driver, account.identifier, "wrong")   # locked for 2 hours
    a_day_ago = timezone.now() - timedelta(hours=24, minutes=1)
    LoginThrottle.objects.update(locked_until=a_day_ago, last_failure_at=a_day_ago - timedelta(hours=2))
    sign_in_password(driver, account.identifier, "wrong")
    throttle = LoginThrottle.objects.get()
    assert (throttle.failures, throttle.locks, throttle.locked_until) == (1, 0, None)   # not locked again
    for _ in range(2):
        sign_in_password(driver, account.identifier, "wrong")
    throttle.refresh_from_db()
    assert throttle.locks == 1 and throttle.locked_until is not None   # the guide's 3 failures, 2 hours
    assert abs((throttle.locked_until - timezone.now()) - timedelta(hours=2)) < timedelta(minutes=1)
    # A quiet day counts from the end of the lock, not from the last failure.
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(hours=1),
                                 last_failure_at=a_day_ago)
    sign_in_password(driver, account.identifier, "wrong")
    throttle.refresh_from_db()
    assert throttle.locks == 2   # escalated: locked again at once


def test_typing_a_stolen_password_again_buys_no_more_second_factor_guesses(drive, pension, make_account,
                                                                           smtp_sink) -> None:
    """The failures are cleared when the whole sign-in succeeds, not at the password: otherwise whoever holds
    the password gets a fresh allowance of code guesses each time they type it again."""
    account = make_account(pension)
    allowed = pension.policy.login.lockout.max_failures
    for _ in range(allowed):                       # one wrong code per run, the password typed again each time
        driver = drive(pension.slug)
        assert sign_in_password(driver, account.email).step == "second_factor"
        driver.submit({"code": "000000" if code_from(smtp_sink, account.email) != "000000" else "111111"}, "verify")
    assert LoginThrottle.objects.get().locks == 1
    assert "login.invalid" in sign_in_password(drive(pension.slug), account.email).notices   # locked
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    driver = drive(pension.slug)                   # once the lock is over, a full sign-in clears the record
    sign_in_password(driver, account.email)
    assert driver.submit({"code": code_from(smtp_sink, account.email)}, "verify").outcome == "signed_in"
    assert not LoginThrottle.objects.exists()


def test_the_second_factor_notice_speaks_of_the_policy_date_as_past_or_to_come(drive, pension) -> None:
    from guichet.conftest import POLICY_DIR
    from guichet.organisations.apply import apply
    from guichet.policy.loader import load_folder

    assert "login.mfa_notice" in drive(pension.slug).open("login").notices   # 11 October 2025: past
    soon = timezone.now().date() + timedelta(days=10)
    def later(policy):
        login = policy.login.model_copy(update={"second_factor": policy.login.second_factor.model_copy(
            update={"enrolment_required_from": soon})})
        return policy.model_copy(update={"login": login})

    apply([later(p) if p.slug == pension.slug else p for p in load_folder(POLICY_DIR)])
    page = drive(pension.slug).open("login")
    assert "login.mfa_notice_upcoming" in page.notices and "login.mfa_notice" not in page.notices
    assert f"À partir du {soon:%d/%m/%Y}, tous les adhérents" in page.text


def with_lockout(slug: str, **rule: bool) -> Organisation:
    """The organisation with these `login.lockout` settings, applied as `guichet organisations apply` would."""
    from guichet.conftest import POLICY_DIR
    from guichet.organisations.apply import apply
    from guichet.policy.loader import load_folder

    def changed(policy):
        lockout = policy.login.lockout.model_copy(update=rule)
        return policy.model_copy(update={"login": policy.login.model_copy(update={"lockout": lockout})})

    apply([changed(p) if p.slug == slug else p for p in load_folder(POLICY_DIR)])
    organisation = Organisation.objects.get(slug=slug)
    assert organisation.policy.login.lockout.model_dump(include=set(rule)) == rule
    return organisation


def telling_locks(slug: str, notify_member: bool) -> Organisation:
    return with_lockout(slug, notify_member=notify_member)


@pytest.mark.parametrize("notify_member", [False, True])
def test_a_lock_by_wrong_codes_emails_the_member_only_if_the_policy_says_so(drive, pension, make_account, smtp_sink,
                                                                            notify_member: bool) -> None:
    from guichet.channels.models import Message

    organisation = telling_locks(pension.slug, notify_member)
    account = make_account(organisation)
    driver = drive(organisation.slug)
    sign_in_password(driver, account.email)
    code = code_from(smtp_sink, account.email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(organisation.policy.login.lockout.max_failures):
        page = driver.submit({"code": wrong}, "verify")
    assert "code.exhausted" in page.notices and LoginThrottle.objects.get().locks == 1   # locked by the codes
    locks_told = Message.objects.filter(account_id=account.pk, template="account_locked")
    assert locks_told.count() == (1 if notify_member else 0)
    if notify_member:   # and it reaches the member
        assert smtp_sink.last_to(account.email).subject.startswith("L’accès à votre compte est temporairement bloqué")


def test_no_lock_email_on_any_path_when_the_policy_says_so(drive, pension, make_account, smtp_sink) -> None:
    """The password at sign-in too (the password change: test_wrong_current_passwords_lock_the_account)."""
    from guichet.channels.models import Message

    organisation = telling_locks(pension.slug, False)
    account = make_account(organisation)
    driver = drive(organisation.slug)
    for _ in range(organisation.policy.login.lockout.max_failures):
        sign_in_password(driver, account.email, "wrong")
    assert LoginThrottle.objects.get().locks == 1
    assert not Message.objects.filter(template="account_locked").exists()


def test_remembered_device_skips_the_code_until_the_password_changes(drive, pension, make_account,
                                                                      smtp_sink) -> None:
    from guichet.identities import actions

    account = make_account(pension)
    client = Client()
    driver = drive(pension.slug, client)
    sign_in_password(driver, account.email)
    page = driver.submit({"code": code_from(smtp_sink, account.email), "remember": True}, "verify")
    assert page.outcome == "signed_in"
    device = RememberedDevice.objects.get(account=account)
    assert (device.expires_at - device.created_at).days == 30
    assert devices.cookie_name(pension.slug) in client.cookies
    driver.client.post(f"/api/o/{pension.slug}/logout")
    assert sign_in_password(driver, account.email).outcome == "signed_in"   # no code this time
    actions.set_password(account, "Another-Horse-43!", now=timezone.now())
    assert RememberedDevice.objects.get(account=account).revoked_at is not None
    assert sign_in_password(drive(pension.slug, client), account.email, "Another-Horse-43!").step == "second_factor"


def remembered(drive, organisation, account, smtp_sink) -> Client:
    """The member's own browser, remembered at a sign-in with a code, then signed out."""
    browser = Client()
    driver = drive(organisation.slug, browser)
    sign_in_password(driver, account.email)
    assert driver.submit({"code": code_from(smtp_sink, account.email), "remember": True}, "verify").outcome == \
        "signed_in"
    browser.post(f"/api/o/{organisation.slug}/logout")
    return browser


def test_a_strangers_failures_do_not_lock_the_member_out_of_a_remembered_device(drive, pension, make_account,
                                                                                smtp_sink) -> None:
    from guichet.identities import actions

    account = make_account(pension)
    own = remembered(drive, pension, account, smtp_sink)
    failures = pension.policy.login.lockout.max_failures
    for _ in range(failures):                                        # a stranger, elsewhere
        sign_in_password(drive(pension.slug), account.email, "wrong")
    assert "login.invalid" in sign_in_password(drive(pension.slug), account.email).notices   # locked there
    assert sign_in_password(drive(pension.slug, own), account.email).outcome == "signed_in"    # not here
    own.post(f"/api/o/{pension.slug}/logout")

    for _ in range(failures):                                        # the device counts its own failures
        page = sign_in_password(drive(pension.slug, own), account.email, "wrong")
    assert "login.invalid" in page.notices
    assert "login.invalid" in sign_in_password(drive(pension.slug, own), account.email).notices   # locked too
    assert LoginThrottle.objects.filter(locks=1).count() == 2        # two counters, each locked once
    actions.unlock(account, actor="agent:test", ip=None)             # an agent's unlock clears both
    assert not LoginThrottle.objects.exists()
    assert sign_in_password(drive(pension.slug, own), account.email).outcome == "signed_in"


def test_a_remembered_device_shares_the_accounts_lock_when_the_policy_says_so(drive, pension, make_account,
                                                                              smtp_sink) -> None:
    organisation = with_lockout(pension.slug, spare_remembered_devices=False)
    account = make_account(organisation)
    own = remembered(drive, organisation, account, smtp_sink)
    for _ in range(organisation.policy.login.lockout.max_failures):
        sign_in_password(drive(organisation.slug), account.email, "wrong")
    assert "login.invalid" in sign_in_password(drive(organisation.slug, own), account.email).notices


def test_another_accounts_remembered_device_gives_no_counter_of_its_own(drive, pension, make_account,
                                                                        smtp_sink) -> None:
    member, other = make_account(pension), make_account(pension)
    browser = remembered(drive, pension, other, smtp_sink)           # remembered for another account
    for _ in range(pension.policy.login.lockout.max_failures):
        sign_in_password(drive(pension.slug, browser), member.email, "wrong")
    assert "login.invalid" in sign_in_password(drive(pension.slug, browser), member.email).notices
    assert "login.invalid" in sign_in_password(drive(pension.slug), member.email).notices


def test_forced_enrolment_from_the_policy_date_by_email(drive, pension, make_account, smtp_sink) -> None:
    account = make_account(pension, factors=())
    driver = drive(pension.slug)
    page = sign_in_password(driver, account.email)
    assert page.step == "enrol_choose" and "mfa.enrol_intro" in page.notices
    page = driver.submit({"method": "email"}, "choose")
    assert page.step == "enrol_confirm"
    page = driver.submit({"code": code_from(smtp_sink, account.email)}, "verify")
    assert page.outcome == "signed_in"
    assert Factor.objects.filter(account=account, kind="email").exists()
    email = smtp_sink.last_to(account.email)   # and the member is told, as for every new factor
    assert email.subject.startswith("Un nouveau moyen de vérifier vos connexions a été ajouté")
    assert "des codes envoyés à votre adresse e-mail." in email.body


def test_the_enrolment_at_sign_in_offers_to_remember_the_device(drive, pension, make_account, smtp_sink) -> None:
    account = make_account(pension, factors=())
    browser = Client()
    driver = drive(pension.slug, browser)
    sign_in_password(driver, account.email)
    page = driver.submit({"method": "email"}, "choose")
    assert page.step == "enrol_confirm" and page.fields == ["code", "remember"]
    page = driver.submit({"code": code_from(smtp_sink, account.email), "remember": True}, "verify")
    assert page.outcome == "signed_in"
    assert RememberedDevice.objects.filter(account=account, revoked_at=None).count() == 1
    browser.post(f"/api/o/{pension.slug}/logout")
    assert sign_in_password(drive(pension.slug, browser), account.email).outcome == "signed_in"   # no code


def test_enrolment_with_an_authenticator_app_then_sign_in_with_it(drive, pension, make_account, smtp_sink) -> None:
    import pyotp

    from guichet.identities import totp

    account = make_account(pension, factors=())
    Account.objects.filter(pk=account.pk).update(language="en")   # the last sign-in's; these pages are French
    driver = drive(pension.slug)
    sign_in_password(driver, account.email)
    page = driver.submit({"method": "totp"}, "choose")
    assert page.step == "enrol_confirm"
    from guichet.journeys.models import Run

    seed = totp.unseal(Run.objects.get(pk=driver.run).state["totp_seed"])
    assert seed.replace(" ", "")[:4] in page.text.replace(" ", "")
    confirming_code = pyotp.TOTP(seed).now()
    assert driver.submit({"code": confirming_code}, "verify").outcome == "signed_in"
    factor = Factor.objects.get(account=account, kind="totp")
    assert factor.secret and seed not in factor.secret   # stored encrypted
    # The member is told, with the organisation's contacts, in the organisation's language: neither the pages'
    # nor the last sign-in's, which whoever enrols (a thief with the password?) chose.
    email = smtp_sink.last_to(account.email)
    assert email.subject == "Un nouveau moyen de vérifier vos connexions a été ajouté – Caisse de retraite Exemple"
    body = " ".join(email.body.split())
    assert "a été ajouté à votre compte Caisse de retraite Exemple le " in body
    assert ": une application d’authentification." in body
    assert "contactez-nous sans attendre" in body and "Des questions ? Contactez-nous :" in body
    assert Event.objects.get(kind="factor.enrolment_notified", account_id=account.pk).data == {
        "factor": "totp", "channels": ["email"]}
    driver = drive(pension.slug)
    page = sign_in_password(driver, account.email)
    assert page.step == "second_factor" and "use_code" in page.actions
    page = driver.submit({"code": confirming_code}, "verify")   # already used, to confirm the app
    assert page.step == "second_factor" and page.field_errors == {"code": ["code.wrong_app"]}
    step = int(timezone.now().timestamp()) // 30 + 1     # the app's next code
    assert driver.submit({"code": pyotp.TOTP(seed).generate_otp(step)}, "verify").outcome == "signed_in"


def test_resend_waits_for_the_cooldown(drive, pension, make_account, smtp_sink) -> None:
    account = make_account(pension)
    driver = drive(pension.slug)
    sign_in_password(driver, account.email)
    page = driver.submit({}, "resend")
    assert "code.wait" in page.notices


def test_too_many_wrong_codes_end_the_run_and_a_new_code_keeps_the_count(drive, pension, make_account,
                                                                         smtp_sink) -> None:
    from guichet.challenges.models import Challenge

    account = make_account(pension)
    driver = drive(pension.slug)
    sign_in_password(driver, account.email)
    code = code_from(smtp_sink, account.email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        driver.submit({"code": wrong}, "verify")
    Challenge.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    from guichet.journeys.models import Run

    Run.objects.filter(pk=driver.run).update(state={**Run.objects.get(pk=driver.run).state, "code_sent_at:login": (
        timezone.now() - timedelta(minutes=1)).isoformat()})
    page = driver.submit({}, "resend")
    assert "code.resent" in page.notices
    assert Challenge.objects.get(used_at=None, replaced_at=None).attempts == 4   # not reset by the new code
    page = driver.submit({"code": wrong}, "verify")
    assert "code.exhausted" in page.notices and page.outcome == "done"


def test_farm_and_health_sign_in_without_code_by_member_number(drive, farm, health, make_account) -> None:
    for organisation in (farm, health):
        account = make_account(organisation, factors=())
        page = sign_in_password(drive(organisation.slug), f" {account.identifier.lower()} ")
        assert page.outcome == "signed_in", organisation.slug


def test_the_password_step_reads_the_account_once(drive, farm, make_account) -> None:
    """Whether a second factor is due is read with the account, and the session opens from that same read:
    each query here is paid on every sign-in (docs/benchmarks.md)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def password_step(account: Account) -> tuple[Page, list[str]]:
        driver = drive(farm.slug)
        driver.open("login")
        with CaptureQueriesContext(connection) as queries:
            page = driver.submit({"identifier": account.identifier, "password": PASSWORD}, "sign_in")
        return page, [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]

    page, reads = password_step(make_account(farm, factors=()))
    assert page.outcome == "signed_in"
    assert sum('FROM "identities_account"' in sql for sql in reads) == 1, reads
    assert not any(sql.startswith('SELECT 1 AS "a" FROM "identities_factor"') for sql in reads), reads
    page, reads = password_step(make_account(farm, factors=("email",)))   # chosen, not required by the farm
    assert page.step == "second_factor"
    assert not any(sql.startswith('SELECT 1 AS "a" FROM "identities_factor"') for sql in reads), reads


def test_a_pending_account_is_told_only_after_the_right_password(drive, health, make_account) -> None:
    account = make_account(health, state=Account.State.PENDING)
    assert sign_in_password(drive(health.slug), account.identifier, "wrong").notices == ["login.invalid"]
    assert sign_in_password(drive(health.slug), account.identifier).notices == ["login.not_activated"]


def test_steps_cannot_be_skipped_or_replayed_from_another_session(drive, pension, make_account) -> None:
    account = make_account(pension)
    driver = drive(pension.slug)
    page = driver.open("login")
    page = driver.submit({"code": "123456"}, "verify")   # a step that is not the current one
    assert page.step == "credentials" and page.outcome == ""
    sign_in_password(driver, account.email)
    stolen_run = driver.run
    thief = drive(pension.slug)
    thief.open("login")
    thief.run = stolen_run
    page = thief.submit({"code": "123456"}, "verify")
    assert "journey.expired" in page.notices


def test_the_session_key_changes_at_sign_in_and_the_old_one_is_worthless(farm, make_account) -> None:
    from importlib import import_module

    from django.conf import settings

    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore  # noqa: N806
    from guichet.web.journey_driver import HtmlDriver

    account = make_account(farm, factors=())
    client = Client()
    driver = HtmlDriver(client, farm.slug)
    driver.open("login")
    before = client.session.session_key
    assert sign_in_password(driver, account.identifier).outcome == "signed_in"
    after = client.session.session_key
    assert before and after and before != after
    assert not SessionStore().exists(before)
    assert client.get(f"/o/{farm.slug}/espace/").status_code == 200


def test_the_json_api_needs_the_csrf_token(pension) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/api/o/{pension.slug}/journeys/login").status_code == 403
    token = client.get("/api/csrf").json()["csrf_token"]
    assert client.post(f"/api/o/{pension.slug}/journeys/login", HTTP_X_CSRFTOKEN=token).status_code == 201


def without_email(make_account, organisation, *, mobile: str = "", factors: tuple[str, ...] = ()) -> Account:
    account = make_account(organisation, factors=factors, mobile=mobile)
    Account.objects.filter(pk=account.pk).update(email="")
    account.refresh_from_db()
    return account


def test_no_code_is_offered_when_there_is_nowhere_to_send_it(drive, farm, make_account) -> None:
    """Without email nor mobile, "Receive a code instead" is not shown, and asking for it anyway (a request
    made by hand) changes nothing: the authenticator app is still asked."""
    import pyotp

    from guichet.identities import actions, totp

    account = without_email(make_account, farm)
    seed = totp.new_seed()
    actions.enrol_factor(account, "totp", now=timezone.now(), secret=totp.seal(seed))
    driver = drive(farm.slug)
    page = sign_in_password(driver, account.identifier)
    assert page.step == "second_factor" and page.fields == ["code"] and page.actions == ["verify"]
    page = driver.submit({}, "use_code")
    assert page.step == "second_factor" and page.field_errors == {"code": ["field.required"]}
    assert driver.submit({"code": pyotp.TOTP(seed).now()}, "verify").outcome == "signed_in"


def test_a_passkey_without_anywhere_to_send_a_code_does_not_promise_one(drive, farm, make_account) -> None:
    from guichet.identities import actions
    from guichet.identities.passkeys import NewPasskey

    account = without_email(make_account, farm)
    actions.enrol_passkey(account, NewPasskey(credential_id="AAAA", public_key=b"key", sign_count=0, transports=[]),
                          now=timezone.now())
    page = sign_in_password(drive(farm.slug), account.identifier)
    assert page.step == "second_factor" and page.actions == ["verify"]
    assert page.notices == ["passkey.sign_in_intro_no_code"]


def test_a_code_factor_without_its_address_says_so_instead_of_failing(drive, farm, make_account) -> None:
    """Codes by email, but the account has no address any more, nor a mobile number: no code can be sent,
    and the member is told to contact the organisation (its contacts are on every page)."""
    account = without_email(make_account, farm, factors=("email",))
    page = sign_in_password(drive(farm.slug), account.identifier)
    assert page.notices == ["mfa.no_channel"] and page.fields == [] and page.actions == []
    assert page.outcome != "signed_in" and not Event.objects.filter(kind="login.succeeded").exists()


def test_codes_go_only_by_the_channels_the_policy_names(drive, pension, make_account, smtp_sink) -> None:
    """A pension fund whose policy says text messages only: no code by email, neither at sign-in nor offered
    at enrolment, even to a member who has an email address (and an email factor from before)."""
    from guichet.channels.models import Message
    from guichet.conftest import POLICY_DIR
    from guichet.organisations.apply import apply
    from guichet.policy.loader import load_folder

    def sms_only(policy, **changes):
        second = policy.login.second_factor.model_copy(update={"channels": ["sms"], **changes})
        return policy.model_copy(update={"login": policy.login.model_copy(update={"second_factor": second})})

    apply([sms_only(p, enrolment_required_from=None) if p.slug == pension.slug else p
           for p in load_folder(POLICY_DIR)])
    pension = Organisation.objects.get(slug=pension.slug)
    account = make_account(pension, mobile="+33612345678", factors=("email",))
    page = sign_in_password(drive(pension.slug), account.email)
    assert page.step == "second_factor" and "code.sent_sms" in page.notices and "code.sent_email" not in page.notices
    assert not Message.objects.filter(channel="email", recipient=account.email).exists()

    apply([sms_only(p) if p.slug == pension.slug else p for p in load_folder(POLICY_DIR)])   # enrolment due
    newcomer = make_account(pension, mobile="+33612345679", factors=())
    driver = drive(pension.slug)
    assert sign_in_password(driver, newcomer.email).step == "enrol_choose"
    assert driver.submit({"method": "email"}, "choose").field_errors == {"method": ["field.choice_invalid"]}
    page = driver.submit({"method": "sms", "mobile": "06 12 34 56 79"}, "choose")
    assert page.step == "enrol_confirm" and "code.sent_sms" in page.notices
    assert not Message.objects.filter(channel="email", recipient=newcomer.email).exists()
