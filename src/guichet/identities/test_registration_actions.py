"""identities.actions.give_email_and_password, where members sign in with their email address."""

from __future__ import annotations

import pytest
from django.utils import timezone

from guichet.audit.models import Event
from guichet.identities import actions
from guichet.identities.models import Account

pytestmark = pytest.mark.django_db

NEW = "Blue-Harbour-Lantern-58"


def without_email(make_account, organisation) -> Account:
    account = make_account(organisation, factors=())
    Account.objects.filter(pk=account.pk).update(email="")
    account.refresh_from_db()
    return account


def test_the_proven_address_becomes_the_identifier_where_members_sign_in_with_it(pension, make_account) -> None:
    account = without_email(make_account, pension)
    assert actions.give_email_and_password(account, email="Marie.New@Example.org", password=NEW, now=timezone.now())
    account.refresh_from_db()
    assert (account.email, account.identifier) == ("Marie.New@Example.org", "marie.new@example.org")
    assert account.check_password(NEW) and account.email_verified_at is not None
    event = Event.objects.get(kind="contact.email_added", account_id=account.pk)
    assert event.data["changed"] == ["email", "identifier"] and "marie" not in str(event.data).lower()


def test_an_address_another_account_signs_in_with_is_refused(pension, make_account) -> None:
    other = make_account(pension, email="taken@example.org")
    account = without_email(make_account, pension)
    assert not actions.give_email_and_password(account, email="Taken@example.org", password=NEW, now=timezone.now())
    account.refresh_from_db()
    assert account.email == "" and not account.check_password(NEW) and other.identifier == "taken@example.org"
    assert Event.objects.filter(kind="registration.update_refused", account_id=account.pk).exists()
