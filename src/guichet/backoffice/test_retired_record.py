"""A member whose record a complete import retired: agents still find them and see why, nothing is sent to
the record's address or mobile number, and their account works as before."""

from __future__ import annotations

import pytest
from django.utils import timezone

from guichet.backoffice.conftest import must_find
from guichet.backoffice.test_member_help import ADDRESS, REASON, MemberBrowser
from guichet.channels.models import Message
from guichet.conftest import PASSWORD
from guichet.identities.models import Account
from guichet.registry.models import MemberRecord

pytestmark = pytest.mark.django_db


def retire(account: Account) -> None:
    MemberRecord.objects.filter(account=account).update(retired_at=timezone.now())


def test_agents_find_a_retired_member_and_see_since_when(make_agent, agent_client, make_account, pension) -> None:
    account, other = make_account(pension), make_account(pension)
    retire(account)
    client = agent_client(make_agent(pension))
    results = client.get("/agents/", {"by": "name", "q": "dupont"}).content.decode()
    assert f"/agents/comptes/{account.pk}/" in results and f"/agents/comptes/{other.pk}/" in results
    assert results.count('data-retired="yes"') == 1 and "retirée du référentiel" in results
    page = client.get(f"/agents/comptes/{account.pk}/").content.decode()
    today = timezone.localdate()
    assert f'data-retired="{today:%Y-%m-%d}"' in page and "Retirée du référentiel le" in page
    assert "data-retired" not in client.get(f"/agents/comptes/{other.pk}/").content.decode()


def test_no_letter_nor_text_message_to_a_retired_records_address_or_mobile(make_agent, agent_client, make_account,
                                                                            pension) -> None:
    account = make_account(pension, address=ADDRESS)   # the mobile number is the record's only
    MemberRecord.objects.filter(account=account).update(mobile="+33612345678")
    retire(account)
    client = agent_client(make_agent(pension))
    page = client.get(f"/agents/comptes/{account.pk}/").content.decode()
    assert must_find(r'id="reset_password-channel-letter"[^>]*disabled', page)
    assert must_find(r'id="reset_password-channel-sms"[^>]*disabled', page)
    for channel in ("letter", "sms"):
        response = client.post(f"/agents/comptes/{account.pk}/reset_password/", {"reason": REASON, "channel": channel})
        assert response.status_code == 400 and 'data-code="backoffice.no_destination"' in response.content.decode()
    assert Account.objects.get(pk=account.pk).check_password(PASSWORD)
    assert not Message.objects.filter(template="temporary_password").exists()


def test_a_retired_members_account_still_signs_in(make_account, pension, smtp_sink) -> None:
    """The organisation decides what becomes of the account (agents can disable it): docs/decisions.md."""
    account = make_account(pension)
    retire(account)
    member = MemberBrowser(pension.slug)
    assert member.submit({"identifier": account.email, "password": PASSWORD}, "sign_in") == "second_factor"
