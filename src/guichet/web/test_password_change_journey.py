"""Changing one's password while signed in: the current one is asked, other sessions end, this one stays."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from guichet.conftest import FARM, HEALTH, PASSWORD, PENSION
from guichet.identities import actions
from guichet.identities.models import Account, LoginThrottle, RememberedDevice
from guichet.journeys.paths import journey_path, page_path
from guichet.web.journey_driver import HtmlDriver
from guichet.web.test_recovery_journey import sign_in

pytestmark = pytest.mark.django_db

NEW = "Moissonneuse-Bleue-2024"


def farm_account(make_account, farm) -> Account:
    account = make_account(farm, factors=())
    Account.objects.filter(pk=account.pk).update(contact_confirmed_at=timezone.now())
    return account


def test_not_signed_in_is_told_to_sign_in(drive, farm) -> None:
    page = drive(farm.slug).open("password_change")
    assert page.notices == ["password.sign_in_first"] and page.fields == []


def test_change_keeps_this_session_and_ends_the_others(drive, farm, make_account, smtp_sink) -> None:
    account = farm_account(make_account, farm)
    other = drive(farm.slug, Client())
    assert sign_in(other, account.identifier, PASSWORD).outcome == "signed_in"
    actions.remember_device(account, days=30, label="tablet", now=timezone.now(), ip=None)
    driver = drive(farm.slug, Client())
    assert sign_in(driver, account.identifier, PASSWORD).outcome == "signed_in"
    page = driver.open("password_change")
    assert page.fields == ["current_password", "new_password", "confirm_password"]
    page = driver.submit({"current_password": "wrong", "new_password": NEW, "confirm_password": NEW}, "change")
    assert page.field_errors == {"current_password": ["password.current_wrong"]}
    assert LoginThrottle.objects.get().failures == 1   # counts towards the sign-in lock-out
    page = driver.submit({"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}, "change")
    assert page.outcome == "done" and page.notices == ["password.changed"]
    assert driver.client.get(f"/api/o/{farm.slug}/session").status_code == 200   # still signed in here
    assert other.client.get(f"/api/o/{farm.slug}/session").status_code == 401    # signed out elsewhere
    assert RememberedDevice.objects.get(account=account).revoked_at is not None
    assert smtp_sink.last_to(account.email).subject.startswith("Votre mot de passe a été modifié")
    account.refresh_from_db()
    assert account.check_password(NEW)


@pytest.mark.parametrize("notify_member", [True, False])
def test_wrong_current_passwords_lock_the_account(drive, farm, make_account, smtp_sink, notify_member) -> None:
    from guichet.channels.models import Message
    from guichet.web.test_login_journey import telling_locks

    organisation = telling_locks(farm.slug, notify_member)
    account = farm_account(make_account, organisation)
    driver = drive(organisation.slug)
    sign_in(driver, account.identifier, PASSWORD)
    driver.open("password_change")
    for _ in range(5):
        driver.submit({"current_password": "wrong", "new_password": NEW, "confirm_password": NEW}, "change")
    throttle = LoginThrottle.objects.get()
    assert throttle.locks == 1 and throttle.locked_until is not None and throttle.locked_until > timezone.now()
    page = driver.submit({"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}, "change")
    assert page.field_errors == {"current_password": ["password.current_wrong"]}   # locked: refused anyway
    account.refresh_from_db()
    assert account.check_password(PASSWORD)
    # The member is told of the lock as the policy says (login.lockout.notify_member).
    assert Message.objects.filter(account_id=account.pk, template="account_locked").count() == int(notify_member)


def test_guesses_counted_while_the_right_current_password_is_hashed_refuse_it(drive, farm, make_account,
                                                                             monkeypatch) -> None:
    """Wrong current passwords from another session land while the right one's hash runs (simulated from inside
    that hash, a test double of Django's hasher only): the right one must then find the lock, as at sign-in."""
    from django.contrib.auth.hashers import check_password as real_check

    account = farm_account(make_account, farm)
    guesser, driver = drive(farm.slug, Client()), drive(farm.slug, Client())
    for browser in (guesser, driver):
        assert sign_in(browser, account.identifier, PASSWORD).outcome == "signed_in"
        browser.open("password_change")
    burst: list[str] = []

    def check_while_the_burst_lands(password, encoded, *args, **kwargs):
        if password == PASSWORD and not burst:
            burst.append(password)
            for _ in range(farm.policy.login.lockout.max_failures):
                guesser.submit({"current_password": "wrong", "new_password": NEW, "confirm_password": NEW}, "change")
        return real_check(password, encoded, *args, **kwargs)

    # Where AbstractBaseUser.check_password finds Django's hasher function.
    monkeypatch.setattr("django.contrib.auth.base_user.check_password", check_while_the_burst_lands)
    page = driver.submit({"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}, "change")
    assert burst and page.field_errors == {"current_password": ["password.current_wrong"]}
    account.refresh_from_db()
    assert account.check_password(PASSWORD)


class _Links(HTMLParser):
    """The links of a page, as (text, address)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self.links.append(("", self._href))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            text, href = self.links[-1]
            self.links[-1] = ((text + data).strip(), href)


@pytest.mark.parametrize("slug", [PENSION, FARM, HEALTH])
def test_the_member_space_links_to_the_password_change(slug, organisations, make_account, smtp_sink) -> None:
    """The space is an HTML page (JSON clients draw their own), so it is followed as a browser does; the
    change itself is tested through both renderers above."""
    account = make_account(organisations[slug])
    driver = HtmlDriver(Client(), slug)
    page = sign_in(driver, account.identifier, PASSWORD)
    if page.step == "second_factor":
        page = driver.submit({"code": smtp_sink.last_to(account.email).code}, "verify")
    assert page.outcome == "signed_in"
    space = _Links()
    space.feed(driver.client.get(page_path(slug, "espace")).content.decode())
    targets = [href for text, href in space.links if text == "Modifier mon mot de passe"]
    assert targets == [journey_path(slug, "password_change")]
    driver.path = targets[0]
    page = driver._read(driver.client.get(targets[0]))
    assert page.step == "change" and page.fields == ["current_password", "new_password", "confirm_password"]
    page = driver.submit({"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}, "change")
    assert page.outcome == "done" and page.notices == ["password.changed"]
    account.refresh_from_db()
    assert account.check_password(NEW)
