"""After an agent removed a member's second factors (identities.actions.remove_factors, from the console), the
member signs in without the old ones: they enrol again when the policy requires it from a date, else they get
a code by email since the organisation requires a second factor. Through both renderers."""

from __future__ import annotations

import pyotp
import pytest
from django.utils import timezone

from guichet.identities import actions, totp
from guichet.identities.models import Factor
from guichet.organisations.models import Organisation
from guichet.web.test_login_journey import code_from, sign_in_password

pytestmark = pytest.mark.django_db


def with_stolen_app(make_account, organisation: Organisation):
    account = make_account(organisation, factors=())
    seed = totp.new_seed()
    actions.enrol_factor(account, "totp", now=timezone.now(), secret=totp.seal(seed))
    actions.remove_factors(account, now=timezone.now(), actor="agent:1", reason="téléphone volé")
    return account, seed


def test_the_member_enrols_again_when_the_policy_requires_it(drive, pension, make_account, smtp_sink) -> None:
    account, seed = with_stolen_app(make_account, pension)
    driver = drive(pension.slug)
    page = sign_in_password(driver, account.email)
    assert page.step == "enrol_choose" and "mfa.enrol_intro" in page.notices
    page = driver.submit({"method": "email"}, "choose")
    page = driver.submit({"code": code_from(smtp_sink, account.email)}, "verify")
    assert page.outcome == "signed_in"
    assert list(Factor.objects.filter(account=account).values_list("kind", flat=True)) == ["email"]


def test_without_an_enrolment_date_a_required_second_factor_is_a_code_by_email(drive, pension, make_account,
                                                                               smtp_sink) -> None:
    from guichet.conftest import POLICY_DIR
    from guichet.organisations.apply import apply
    from guichet.policy.loader import load_folder

    def no_date(policy):
        second = policy.login.second_factor.model_copy(update={"enrolment_required_from": None})
        return policy.model_copy(update={"login": policy.login.model_copy(update={"second_factor": second})})

    apply([no_date(p) if p.slug == pension.slug else p for p in load_folder(POLICY_DIR)])
    pension = Organisation.objects.get(slug=pension.slug)
    assert pension.policy.login.second_factor.required
    account, seed = with_stolen_app(make_account, pension)
    driver = drive(pension.slug)
    page = sign_in_password(driver, account.email)
    assert page.step == "second_factor" and "code.sent_email" in page.notices
    assert "use_code" not in page.actions   # the app is gone: its code is not asked for
    page = driver.submit({"code": pyotp.TOTP(seed).now()}, "verify")
    assert page.field_errors == {"code": ["code.wrong"]}
    page = driver.submit({"code": code_from(smtp_sink, account.email)}, "verify")
    assert page.outcome == "signed_in"
