"""The registration journey of the three presets, through both renderers, with links read from real emails."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from guichet.audit.models import Event
from guichet.challenges.models import Challenge
from guichet.channels.models import Message
from guichet.identities import lookup
from guichet.identities.models import Account
from guichet.journeys.models import Run
from guichet.registry.matching import email_key, finess_check_digit, name_key
from guichet.registry.models import MemberRecord
from guichet.web.journey_driver import Page

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Blue-Harbour-Lantern-58"   # 12+ characters, 4 classes: fits every preset
EMPLOYERS = ["Mairie de Lyon", "Région Bretagne", "Centre hospitalier de Rodez", "Conseil départemental du Gers",
             "Université de Lille", "Météo-France", "Mairie de Brest"]


def add_member(organisation: Any, number: str, *, first: str = "Marie-Hélène", last: str = "D'Arcy",
               born: date = date(1958, 3, 14), email: str = "", **extra: Any) -> MemberRecord:
    email = email or f"member{number}@example.org"
    return MemberRecord.objects.create(
        organisation=organisation, member_number=number, first_name=first, last_name=last,
        first_name_key=name_key(first), last_name_key=name_key(last), birth_date=born, email=email,
        email_key=email_key(email), **extra)


@pytest.fixture
def pension_member(pension: Any) -> MemberRecord:
    for n, employer in enumerate(EMPLOYERS[1:], start=100):   # other members: the decoys come from them
        add_member(pension, f"{n:09d}", first="Jean", last=f"Autre{n}",
                   facts={"employer": employer, "affiliation_year": str(1960 + n % 40)})
    return add_member(pension, "000012345", email="Marie-Helene.Darcy@Example.org",
                      facts={"employer": "Mairie de Lyon", "affiliation_year": "1984"})


def finess(n: int) -> str:
    payload = f"{330000 + n:08d}"
    return payload + finess_check_digit(payload)


@pytest.fixture
def health_member(health: Any) -> MemberRecord:
    return add_member(health, finess(7), email="cabinet@example.org", iban_suffix="480197AB12")


def register_pension(driver: Any, member: MemberRecord, **changes: str) -> Page:
    page = driver.open("registration")
    assert page.step == "identity"
    assert page.fields == ["member_number", "first_name", "last_name", "birth_date", "email", "email_confirmation"]
    values = {"member_number": member.member_number, "first_name": "marie helene", "last_name": "DARCY",
              "birth_date": "14/03/1958", "email": "marie-helene.darcy@example.org",
              "email_confirmation": "MARIE-HELENE.DARCY@example.org"} | changes
    return driver.submit(values, "register")


def answer_and_accept(driver: Any, page: Page) -> Page:
    assert page.step == "questions" and page.fields == ["answer_1"], page
    page = driver.submit({"answer_1": "  mairie de LYON "}, "answer")   # tolerant: case and spaces
    assert page.step == "questions" and page.fields == ["answer_2"], page
    page = driver.submit({"answer_2": "1984"}, "answer")
    assert page.step == "usage_policy" and page.fields == ["accept"], page
    return driver.submit({"accept": True}, "accept")


def register_health(driver: Any, member: MemberRecord, password: str = NEW_PASSWORD, **changes: str) -> Page:
    page = driver.open("registration")
    assert page.step == "identity"
    assert page.fields == ["member_number", "iban_suffix", "email", "email_confirmation", "new_password",
                           "confirm_password"]
    values = {"member_number": f" {member.member_number[:3]} {member.member_number[3:]}", "iban_suffix": "7ab12",
              "email": "cabinet@example.org", "email_confirmation": "cabinet@example.org",
              "new_password": password, "confirm_password": password} | changes
    return driver.submit(values, "register")


def open_link(driver: Any, url: str) -> Page:
    """Follow an emailed link the way each client does: a browser GET, or the API's POST of the token."""
    parts = urlsplit(url)
    token = parse_qs(parts.query)["lien"][0]
    if driver.kind == "html":
        driver.path = parts.path
        response = driver.client.get(f"{parts.path}?lien={token}")
        if response.status_code == 303:
            assert response["Location"] == parts.path   # the token leaves the address bar
            response = driver.client.get(parts.path)
        return driver._read(response)
    driver.journey = "registration"
    return driver._read(driver.client.post(f"/api/o/{driver.slug}/journeys/registration/link",
                                           json.dumps({"token": token}), content_type="application/json"))


def link_to(smtp_sink: Any, address: str) -> str:
    return str(smtp_sink.last_to(address).link)


# Pension fund: registry match, two questions, usage policy, then the password after the link ------------

def test_pension_fund_registration_from_form_to_password(drive, pension, pension_member, smtp_sink) -> None:
    driver = drive(pension.slug)
    page = register_pension(driver, pension_member)
    assert "registration.questions_intro" in page.notices
    assert "[1 / 2]" in page.text
    page = answer_and_accept(driver, page)
    assert page.outcome == "done"
    assert {"registration.first_step_done", "registration.password_email_sent",
            "registration.check_spam"} <= set(page.notices)
    account = Account.objects.get(member=pension_member)
    assert account.state == "pending" and account.identifier == "marie-helene.darcy@example.org"
    assert account.policy_version_accepted == "2025-10" and account.policy_accepted_at is not None
    assert Event.objects.filter(kind="policy.accepted", account_id=account.pk).exists()
    assert not account.has_usable_password()

    email = smtp_sink.last_to(account.email)
    assert Message.objects.filter(template="registration_password", account_id=account.pk).exists()
    page = open_link(driver, email.link)
    assert page.step == "set_password" and page.fields == ["new_password", "confirm_password"]
    page = driver.submit({"new_password": "short", "confirm_password": "short"}, "save")
    assert "password.min_length" in page.field_errors["new_password"]
    page = driver.submit({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}, "save")
    assert page.outcome == "done" and page.notices == ["registration.password_set"]
    account.refresh_from_db()
    assert account.state == "active" and account.email_verified_at is not None
    assert lookup.password_matches(account, NEW_PASSWORD)
    assert list(Event.objects.filter(account_id=account.pk).values_list("kind", flat=True).order_by("id")) == [
        "account.created", "account.registered", "policy.accepted", "password.changed", "account.activated",
        "factor.enrolled"]
    # The address the link proved is the second factor: the first sign-in sends the code there, as the guide
    # says, even after the date from which every member must set one up (no set-up screen, no extra warning).
    assert list(account.factors.values_list("kind", flat=True)) == ["email"]
    login = drive(pension.slug)
    login.open("login")
    page = login.submit({"identifier": account.email, "password": NEW_PASSWORD}, "sign_in")
    assert page.step == "second_factor" and "code.sent_email" in page.notices and "remember" in page.fields
    assert not Message.objects.filter(template="factor_enrolled").exists()


def test_the_confirmation_tells_the_date_and_time(drive, pension, pension_member, smtp_sink) -> None:
    driver = drive(pension.slug)
    page = answer_and_accept(driver, register_pension(driver, pension_member))
    if driver.kind == "html":   # the JSON client has the notice's text in the screen, the page in its body
        local = timezone.localtime()
        assert f"à {local:%H:%M}" in page.text or f"at {local:%H:%M}" in page.text


def test_select_question_offers_the_answer_among_registry_decoys_the_same_each_time(drive, pension,
                                                                                    pension_member) -> None:
    choices = []
    for _attempt in range(2):
        driver = drive(pension.slug)
        register_pension(driver, pension_member)
        state = Run.objects.get(pk=driver.run).state
        choices.append(state["questions"][0]["choices"])
    assert choices[0] == choices[1]                  # restarting shows the same list (no intersection attack)
    assert len(choices[0]) == 5 and "Mairie de Lyon" in choices[0]
    assert set(choices[0]) - {"Mairie de Lyon"} <= set(EMPLOYERS)


def test_each_mismatch_gets_the_same_answer(drive, pension, pension_member) -> None:
    answers = set()
    other = {"email": "other@example.org", "email_confirmation": "other@example.org"}
    for change in ({"member_number": "000099999"}, {"first_name": "Marie"}, {"last_name": "Darci"},
                   {"birth_date": "15/03/1958"}, other):
        page = register_pension(drive(pension.slug), pension_member, **change)
        answers.add(repr((page.status, page.step, page.notices, page.field_errors, page.title)))
    assert len(answers) == 1, answers
    assert "registration.no_match" in answers.pop()
    assert not Account.objects.exists()
    assert Event.objects.filter(kind="registration.failed", data__reason="no_match").count() == 5


def test_typing_errors_are_told_per_field_and_look_up_nothing(drive, pension, pension_member) -> None:
    page = register_pension(drive(pension.slug), pension_member, member_number="12AB", email_confirmation="x@y.fr")
    assert page.field_errors == {"member_number": ["registration.member_number_invalid"],
                                 "email_confirmation": ["registration.email_mismatch"]}
    assert not Event.objects.filter(kind="registration.failed").exists()


def test_wrong_answers_end_the_run_and_restarting_buys_no_more_tries(drive, pension, pension_member) -> None:
    driver = drive(pension.slug)
    register_pension(driver, pension_member)
    page = driver.submit({"answer_1": "Mairie de Paris"}, "answer")
    assert page.field_errors == {"answer_1": ["registration.answer_wrong"]}
    assert "2" in page.text
    driver = drive(pension.slug)                     # a new run: the member record keeps its count
    register_pension(driver, pension_member)
    page = driver.submit({"answer_1": "Mairie de Paris"}, "answer")
    assert page.field_errors == {"answer_1": ["registration.answer_wrong"]}
    page = driver.submit({"answer_1": "Mairie de Brest"}, "answer")
    assert page.outcome == "done" and page.notices == ["registration.questions_failed"]
    driver = drive(pension.slug)
    register_pension(driver, pension_member)
    page = driver.submit({"answer_1": "Mairie de Lyon"}, "answer")   # even the right answer: no more tries
    assert page.notices == ["registration.questions_failed"]
    assert not Account.objects.exists()


def test_the_usage_policy_must_be_accepted(drive, pension, pension_member) -> None:
    driver = drive(pension.slug)
    page = register_pension(driver, pension_member)
    driver.submit({"answer_1": "Mairie de Lyon"}, "answer")
    page = driver.submit({"answer_2": "1984"}, "answer")
    assert page.step == "usage_policy" and "registration.policy_intro" in page.notices
    assert "Politique d'utilisation" in page.text and "réservé aux participants" in page.text
    page = driver.submit({}, "accept")
    assert page.step == "usage_policy" and page.field_errors == {"accept": ["field.required"]}
    assert not Account.objects.exists()


def test_the_link_works_once(drive, pension, pension_member, smtp_sink, client) -> None:
    driver = drive(pension.slug)
    answer_and_accept(driver, register_pension(driver, pension_member))
    url = link_to(smtp_sink, pension_member.email)
    assert open_link(drive(pension.slug), url).step == "set_password"   # a mail scanner opens it first
    open_link(driver, url)
    page = driver.submit({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}, "save")
    assert page.notices == ["registration.password_set"]
    page = open_link(drive(pension.slug), url)
    assert page.outcome == "done" and page.notices == ["registration.link_invalid"]


def test_an_already_registered_member_sees_the_same_and_is_told_by_email(drive, pension, pension_member,
                                                                         make_account, smtp_sink) -> None:
    driver = drive(pension.slug)
    first = answer_and_accept(driver, register_pension(driver, pension_member))
    account = Account.objects.get(member=pension_member)
    from guichet.identities import actions

    actions.complete_registration(account, now=timezone.now(), password=NEW_PASSWORD)
    driver = drive(pension.slug)
    again = answer_and_accept(driver, register_pension(driver, pension_member))
    assert (again.outcome, again.title, again.notices) == (first.outcome, first.title, first.notices)
    assert Account.objects.filter(member=pension_member).count() == 1
    email = smtp_sink.last_to(pension_member.email)
    assert "/mot-de-passe-oublie/" in email.body and "déjà" in email.subject
    assert Message.objects.filter(template="registration_already").count() == 1
    account.refresh_from_db()
    assert lookup.password_matches(account, NEW_PASSWORD) and account.state == "active"


def test_rate_limits_per_member_number_and_per_address(drive, pension, pension_member) -> None:
    for _ in range(5):
        register_pension(drive(pension.slug), pension_member, first_name="Wrong")
    page = register_pension(drive(pension.slug), pension_member)   # right this time, but too many tries
    assert page.step == "identity" and "request.rate_limited" in page.notices
    for n in range(14):   # 6 so far from this address; the 21st attempt is refused whatever the number
        register_pension(drive(pension.slug), pension_member, member_number=f"{500 + n:09d}")
    page = register_pension(drive(pension.slug), pension_member, member_number="000000777")
    assert page.step == "identity" and "request.rate_limited" in page.notices


def test_steps_cannot_be_skipped(drive, pension, pension_member) -> None:
    driver = drive(pension.slug)
    driver.open("registration")
    page = driver.submit({"accept": True, "answer_1": "x", "new_password": NEW_PASSWORD}, "accept")
    assert page.step == "identity" and "member_number" in page.field_errors
    page = driver.submit({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}, "save")
    assert page.step == "identity" and not Account.objects.exists()
    register_pension(driver, pension_member)
    thief = drive(pension.slug)
    thief.open("registration")
    thief.run = driver.run
    assert "journey.expired" in thief.submit({"answer_1": "Mairie de Lyon"}, "answer").notices


# Health mutual: FINESS and IBAN suffix, password in the form, then the activation link --------------------

def test_health_mutual_registration_and_activation(drive, health, health_member, smtp_sink) -> None:
    driver = drive(health.slug)
    page = register_health(driver, health_member)
    assert page.outcome == "done"
    assert {"registration.first_step_done", "registration.activation_email_sent"} <= set(page.notices)
    account = Account.objects.get(member=health_member)
    assert account.state == "pending" and account.identifier == health_member.member_number
    challenge = Challenge.objects.get(account=account, purpose="registration")
    assert challenge.expires_at - challenge.created_at == timedelta(hours=24)
    page = open_link(driver, link_to(smtp_sink, "cabinet@example.org"))
    assert page.step == "activate" and page.fields == []
    page = driver.submit({}, "activate")
    assert page.outcome == "done" and page.notices == ["registration.activated"]
    account.refresh_from_db()
    assert account.state == "active" and lookup.password_matches(account, NEW_PASSWORD)
    login = drive(health.slug)
    login.open("login")
    assert login.submit({"identifier": account.identifier, "password": NEW_PASSWORD}, "sign_in").outcome == "signed_in"


def test_health_mutual_mismatches_look_the_same_and_formats_are_checked(drive, health, health_member) -> None:
    answers = set()
    for change in ({"member_number": finess(99)}, {"iban_suffix": "7AB13"}):
        page = register_health(drive(health.slug), health_member, **change)
        answers.add(repr((page.status, page.step, page.notices, page.field_errors)))
    assert len(answers) == 1 and "registration.no_match" in answers.pop()
    wrong_check_digit = health_member.member_number[:8] + str((int(health_member.member_number[8]) + 1) % 10)
    page = register_health(drive(health.slug), health_member, member_number=wrong_check_digit, iban_suffix="AB")
    assert page.field_errors == {"member_number": ["registration.member_number_invalid"],
                                 "iban_suffix": ["registration.iban_invalid"]}
    page = register_health(drive(health.slug), health_member, password="Abcdefg1")   # 3 classes of 4
    assert "new_password" in page.field_errors
    assert not Account.objects.exists()


def test_health_mutual_expired_link_then_registering_again_reuses_the_account(drive, health, health_member,
                                                                              smtp_sink) -> None:
    driver = drive(health.slug)
    register_health(driver, health_member)
    old_link = link_to(smtp_sink, "cabinet@example.org")
    Challenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = open_link(drive(health.slug), old_link)
    assert page.outcome == "done" and page.notices == ["registration.link_expired"]
    assert page.title == "Ce lien a expiré"
    other = "Green-Valley-Orchard-77"
    page = register_health(drive(health.slug), health_member, password=other, email="nouveau@example.org",
                           email_confirmation="nouveau@example.org")
    assert page.outcome == "done"
    account = Account.objects.get(member=health_member)   # one account, updated
    assert account.email == "nouveau@example.org" and lookup.password_matches(account, other)
    driver = drive(health.slug)
    open_link(driver, link_to(smtp_sink, "nouveau@example.org"))
    assert driver.submit({}, "activate").notices == ["registration.activated"]


def test_a_link_opened_then_left_until_it_expires_is_refused(drive, health, health_member, smtp_sink) -> None:
    driver = drive(health.slug)
    register_health(driver, health_member)
    open_link(driver, link_to(smtp_sink, "cabinet@example.org"))
    Challenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = driver.submit({}, "activate")
    assert page.outcome == "done" and page.notices == ["registration.link_expired"]
    assert Account.objects.get(member=health_member).state == "pending"


def test_health_mutual_link_works_once_and_steps_cannot_be_skipped(drive, health, health_member,
                                                                    smtp_sink) -> None:
    driver = drive(health.slug)
    driver.open("registration")
    page = driver.submit({}, "activate")             # the activation step is reached by the link only
    assert page.step == "identity" and "member_number" in page.field_errors
    register_health(driver, health_member)
    url = link_to(smtp_sink, "cabinet@example.org")
    open_link(driver, url)
    assert driver.submit({}, "activate").notices == ["registration.activated"]
    page = open_link(drive(health.slug), url)
    assert page.outcome == "done" and page.notices == ["registration.link_invalid"]


def test_health_mutual_rate_limit_per_finess_number(drive, health, health_member) -> None:
    for _ in range(5):
        register_health(drive(health.slug), health_member, iban_suffix="00000")
    page = register_health(drive(health.slug), health_member)
    assert page.step == "identity" and "request.rate_limited" in page.notices
    assert not Account.objects.exists()


def test_health_mutual_already_registered_is_told_by_email_at_the_account_address(drive, health, make_account,
                                                                                   smtp_sink) -> None:
    account = make_account(health, iban_suffix="FR7612345")
    member = account.member
    page = register_health(drive(health.slug), member, iban_suffix="12345", email="intruder@example.org",
                           email_confirmation="intruder@example.org")
    assert page.outcome == "done" and "registration.activation_email_sent" in page.notices
    assert "déjà" in smtp_sink.last_to(account.email).subject
    assert not Message.objects.filter(recipient="intruder@example.org").exists()
    account.refresh_from_db()
    assert account.email != "intruder@example.org"


# Farm social security: accounts are provisioned, the temporary password comes by post ---------------------

def test_farm_registration_page_explains_the_letter(drive, farm) -> None:
    page = drive(farm.slug).open("registration")
    assert page.notices == ["registration.provisioned_postal"]
    assert page.fields == [] and page.actions == []
    assert "01 23 45 67 89" in page.text
    assert "Demandez un nouveau mot de passe provisoire avec « Mot de passe oublié ? »" in page.text


def test_farm_registration_cannot_be_forced_through_the_api(farm, client) -> None:
    run = client.post(f"/api/o/{farm.slug}/journeys/registration").json()
    response = client.post(f"/api/o/{farm.slug}/journeys/registration/{run['run']}",
                           json.dumps({"values": {"member_number": "12000001"}, "action": "register"}),
                           content_type="application/json")
    assert response.json()["step"] == "provisioned" and not Account.objects.exists()


def test_provisioning_sends_a_letter_with_identifier_and_temporary_password(farm, postal_spool, drive) -> None:
    from io import StringIO

    from django.core.management import call_command

    from guichet.channels.testing import deliver_all

    with_address = [add_member(farm, f"1200000{n}", address="3 chemin des Vignes\n12000 Rodez") for n in range(3)]
    add_member(farm, "12000009")   # no postal address: skipped, reported
    out, err = StringIO(), StringIO()
    call_command("members", "provision", "--organisation", farm.slug, "--limit", "2", stdout=out, stderr=err)
    assert Account.objects.count() == 2 and "2 comptes créés" in out.getvalue()
    call_command("members", "provision", "--organisation", farm.slug, stdout=out, stderr=err)
    assert "Adhérent 12000009 ignoré. Il n'y a pas d'adresse postale." in err.getvalue()   # reported, in French
    call_command("members", "provision", "--organisation", farm.slug, stdout=out, stderr=err)   # idempotent
    assert Account.objects.count() == 3
    deliver_all()
    letters = postal_spool.letters()
    assert len(letters) == 3
    account = Account.objects.get(member=with_address[0])
    assert account.must_change_password and account.state == "active"
    assert account.password_expires_at is not None and account.password_changed_at is not None
    assert (account.password_expires_at - account.password_changed_at) == timedelta(days=30)
    letter = next(x for x in letters if "12000000" in x.text)
    lines = [line.strip() for line in letter.text.splitlines() if line.strip()]
    password = lines[next(i for i, line in enumerate(lines) if "mot de passe provisoire" in line.lower()
                          and line.endswith(":")) + 1]
    assert len(password) == 12 and lookup.password_matches(account, password)
    assert Event.objects.filter(kind="account.provisioned", account_id=account.pk).exists()
    login = drive(farm.slug)
    login.open("login")
    page = login.submit({"identifier": "12000000", "password": password}, "sign_in")
    assert page.outcome in ("signed_in", "redirect") or page.step != "credentials"


def test_a_record_no_longer_in_the_registry_is_answered_like_an_unknown_member(drive, pension,
                                                                               pension_member) -> None:
    def shown(page: Page) -> str:
        return repr((page.status, page.step, page.notices, page.field_errors, page.title))

    unknown = register_pension(drive(pension.slug), pension_member, member_number="000099999")
    MemberRecord.objects.filter(pk=pension_member.pk).update(retired_at=timezone.now())   # a complete import
    retired = register_pension(drive(pension.slug), pension_member)
    assert shown(retired) == shown(unknown) and "registration.no_match" in shown(retired)
    assert not Account.objects.exists() and not Run.objects.filter(state__member=pension_member.pk).exists()
    assert Event.objects.filter(kind="registration.failed", data__reason="no_match").count() == 2


def test_a_record_retired_during_the_registration_or_before_its_link_opens_nothing(drive, pension, pension_member,
                                                                                    smtp_sink) -> None:
    driver = drive(pension.slug)
    page = register_pension(driver, pension_member)
    MemberRecord.objects.filter(pk=pension_member.pk).update(retired_at=timezone.now())   # while answering
    page = answer_and_accept(driver, page)
    assert page.outcome == "done" and "registration.first_step_done" in page.notices   # the same screen
    assert not Account.objects.exists() and not Message.objects.exists()

    MemberRecord.objects.filter(pk=pension_member.pk).update(retired_at=None)
    driver = drive(pension.slug)
    answer_and_accept(driver, register_pension(driver, pension_member))
    link = smtp_sink.last_to(Account.objects.get().email).link
    MemberRecord.objects.filter(pk=pension_member.pk).update(retired_at=timezone.now())   # before the link
    page = open_link(drive(pension.slug), link)
    assert page.outcome == "done" and page.step != "set_password"
    assert Account.objects.get().state == "pending" and not Account.objects.get().factors.exists()


def test_decoys_come_only_from_records_still_in_the_registry(drive, pension, pension_member) -> None:
    MemberRecord.objects.filter(organisation=pension).exclude(pk=pension_member.pk).update(retired_at=timezone.now())
    driver = drive(pension.slug)
    register_pension(driver, pension_member)
    assert Run.objects.get(pk=driver.run).state["questions"][0]["choices"] == ["Mairie de Lyon"]


def test_provisioning_skips_records_no_longer_in_the_registry(farm, postal_spool) -> None:
    from io import StringIO

    from django.core.management import call_command

    from guichet.channels.testing import deliver_all

    address = "3 chemin des Vignes\n12000 Rodez"
    kept = add_member(farm, "12000001", address=address)
    add_member(farm, "12000002", address=address, retired_at=timezone.now())
    out, err = StringIO(), StringIO()
    call_command("members", "provision", "--organisation", farm.slug, stdout=out, stderr=err)
    assert "1 compte créé" in out.getvalue() and not err.getvalue()   # skipped silently: not a failure
    assert list(Account.objects.values_list("member", flat=True)) == [kept.pk]
    deliver_all()
    assert len(postal_spool.letters()) == 1
