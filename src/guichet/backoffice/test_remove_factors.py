"""Removing a member's second factors from the console (a thief's number or app, a lost phone): supervisors
only, with a reason, within the agent's organisations; audited with the agent, the reason and the counts;
remembered devices and sessions end, and the member is told. Signing in afterwards: web/test_factors_removed."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.utils import timezone

from guichet.audit.models import Event
from guichet.identities import actions
from guichet.identities.models import Account, Factor, Passkey, RememberedDevice
from guichet.security import devices

pytestmark = pytest.mark.django_db

REASON = "Appel du membre : téléphone volé, identité vérifiée (date de naissance et adresse)."


def codes(response) -> set[str]:
    return set(re.findall(r'data-code="([^"]+)"', response.content.decode()))


def thief_enrolled(make_account, organisation) -> Account:
    """An account whose password was stolen: the thief added their number and a passkey."""
    account = make_account(organisation, factors=("email",), mobile="+33612345678")
    now = timezone.now()
    actions.enrol_factor(account, "sms", now=now, mobile="+33799999999")
    actions.enrol_passkey(account, SimpleNamespace(credential_id="thief", public_key=b"key", sign_count=0,
                                                   transports=[]), now=now)
    devices.remember(account, days=30, label="Firefox", now=now)
    Account.objects.filter(pk=account.pk).update(language="en")   # the member's, not the console's French
    account.refresh_from_db()
    return account


def test_a_supervisor_removes_the_factors_audited_and_the_member_told(make_agent, agent_client, make_account,
                                                                     pension, smtp_sink, sms_sink) -> None:
    account = thief_enrolled(make_account, pension)
    sessions_before = account.session_version
    supervisor = make_agent(pension, role="supervisor")
    client = agent_client(supervisor)
    page = client.get(f"/agents/comptes/{account.pk}/").content.decode()
    assert "/remove_factors/" in page and "Supprimer les moyens de vérification en deux étapes" in page
    response = client.post(f"/agents/comptes/{account.pk}/remove_factors/", {"reason": f" {REASON} "})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "backoffice.done.remove_factors" in codes(page) and 'data-factors=""' in page.content.decode()
    assert not Factor.objects.filter(account=account).exists()
    assert not Passkey.objects.filter(account=account).exists()
    assert not RememberedDevice.objects.filter(account=account, revoked_at=None).exists()
    account.refresh_from_db()
    assert account.session_version == sessions_before + 1   # every session of the member ends
    actor = supervisor.agent.actor
    event = Event.objects.get(kind="backoffice.remove_factors", account_id=account.pk)
    assert event.actor == actor and event.ip == "127.0.0.1" and event.organisation == pension
    assert event.data == {"reason": REASON, "factors_removed": 3, "passkeys_removed": 1, "devices_revoked": 1}
    removed = Event.objects.get(kind="factor.removed", account_id=account.pk)
    assert removed.actor == actor and removed.data["reason"] == REASON
    assert removed.data["factors"] == ["email", "passkey", "sms"]
    assert Event.objects.filter(kind="sessions.ended", account_id=account.pk, actor=actor).exists()
    # Told by email and on the account's mobile, never on the thief's number, in the member's language.
    email = smtp_sink.last_to(account.email)
    assert email.subject == "Your ways to verify your sign-ins were removed – Example Pension Fund"
    assert "the staff of Example Pension Fund removed the ways to verify your sign-ins" in " ".join(email.body.split())
    assert "our staff removed the ways to verify your sign-ins" in sms_sink.last_to("+33612345678").text
    assert "+33799999999" not in {message.to for message in sms_sink.messages}
    assert Event.objects.get(kind="factor.removal_notified", account_id=account.pk).data == {
        "channels": ["email", "sms"]}


def test_a_plain_agent_may_not_remove_the_factors(make_agent, agent_client, make_account, pension) -> None:
    account = thief_enrolled(make_account, pension)
    client = agent_client(make_agent(pension))
    assert "/remove_factors/" not in client.get(f"/agents/comptes/{account.pk}/").content.decode()
    response = client.post(f"/agents/comptes/{account.pk}/remove_factors/", {"reason": REASON})
    assert response.status_code == 403 and "backoffice.forbidden" in codes(response)
    assert Factor.objects.filter(account=account).count() == 3 and Passkey.objects.filter(account=account).exists()
    assert not Event.objects.filter(kind__in=["backoffice.remove_factors", "factor.removed"]).exists()


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_no_removal_without_a_reason(make_agent, agent_client, make_account, pension, reason: str) -> None:
    account = thief_enrolled(make_account, pension)
    client = agent_client(make_agent(pension, role="supervisor"))
    response = client.post(f"/agents/comptes/{account.pk}/remove_factors/", {"reason": reason})
    assert response.status_code == 400
    assert ("backoffice.reason_too_long" if reason.strip() else "backoffice.reason_required") in codes(response)
    assert Factor.objects.filter(account=account).count() == 3 and Passkey.objects.filter(account=account).exists()
    assert RememberedDevice.objects.filter(account=account, revoked_at=None).count() == 1
    assert not Event.objects.filter(kind__in=["backoffice.remove_factors", "factor.removed",
                                              "sessions.ended"]).exists()


def test_no_removal_in_another_organisation(make_agent, agent_client, make_account, pension, farm) -> None:
    other = thief_enrolled(make_account, farm)
    client = agent_client(make_agent(pension))   # supervisors see every organisation; agents their own only
    response = client.post(f"/agents/comptes/{other.pk}/remove_factors/", {"reason": REASON})
    assert response.status_code == 404
    assert Factor.objects.filter(account=other).count() == 3 and Passkey.objects.filter(account=other).exists()
    assert not Event.objects.filter(kind__in=["backoffice.remove_factors", "factor.removed"]).exists()


def test_nothing_to_remove_is_said_so(make_agent, agent_client, make_account, pension) -> None:
    account = make_account(pension, factors=())
    client = agent_client(make_agent(pension, role="supervisor"))
    assert "/remove_factors/" not in client.get(f"/agents/comptes/{account.pk}/").content.decode()
    response = client.post(f"/agents/comptes/{account.pk}/remove_factors/", {"reason": REASON})
    assert response.status_code == 400 and "backoffice.no_factors" in codes(response)
    assert not Event.objects.filter(kind="backoffice.remove_factors").exists()
