"""The console: search and member pages within the agent's organisations, and the actions (each with a
reason, audited with the agent and the reason; refused outside the agent's rights, changing nothing)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from guichet.audit.models import Event
from guichet.backoffice.conftest import must_find
from guichet.identities.models import Account, RememberedDevice
from guichet.registry.models import MemberRecord
from guichet.security import devices, lockout

pytestmark = pytest.mark.django_db

REASON = "Appel du membre le 12/03, identité vérifiée (date de naissance et adresse)."


def codes(response) -> set[str]:
    return set(re.findall(r'data-code="([^"]+)"', response.content.decode()))


def test_search_by_number_name_and_email_in_the_agents_organisations(make_agent, agent_client, make_account,
                                                                     pension, farm) -> None:
    mine = make_account(pension, email="helene.darcy@example.org")
    theirs = make_account(farm, email="helene.darcy@example.org")
    MemberRecord.objects.filter(pk__in=[mine.member_id, theirs.member_id]).update(
        first_name="Hélène", last_name="D'Arcy", first_name_key="helene", last_name_key="darcy")
    client = agent_client(make_agent(pension))
    for by, typed in (("number", f" {mine.member.member_number} "), ("name", "HELENE darcy"),
                      ("name", "D’Arcy Hélène"), ("email", "Helene.Darcy@example.org")):
        page = client.get("/agents/", {"by": by, "q": typed}).content.decode()
        assert f"/agents/comptes/{mine.pk}/" in page, (by, typed)
        assert f"/agents/comptes/{theirs.pk}/" not in page, (by, typed)
    empty = client.get("/agents/", {"by": "name", "q": "  "})
    assert "backoffice.search_empty" in codes(empty)


def test_a_supervisor_searches_every_organisation(make_agent, agent_client, make_account, pension, farm) -> None:
    accounts = [make_account(pension), make_account(farm)]
    client = agent_client(make_agent(role="supervisor"))
    page = client.get("/agents/", {"by": "name", "q": "Dupont"}).content.decode()
    assert all(f"/agents/comptes/{a.pk}/" in page for a in accounts)


def test_a_supervisor_limited_to_an_organisation_sees_only_its_members_and_their_activity(
        make_agent, agent_client, make_account, pension, farm) -> None:
    mine, theirs = make_account(pension), make_account(farm)
    farm_agent = make_agent(farm)
    agent_client(farm_agent).post(f"/agents/comptes/{theirs.pk}/unlock/", {"reason": "Appel de la Caisse"})
    pension_agent = make_agent(pension)
    agent_client(pension_agent).post(f"/agents/comptes/{mine.pk}/unlock/", {"reason": REASON})
    supervisor = agent_client(make_agent(pension, role="supervisor"))
    assert supervisor.get(f"/agents/comptes/{theirs.pk}/").status_code == 404
    assert supervisor.post(f"/agents/comptes/{theirs.pk}/disable/", {"reason": REASON}).status_code == 404
    page = supervisor.get("/agents/", {"by": "name", "q": "Dupont"}).content.decode()
    assert f"/agents/comptes/{mine.pk}/" in page and f"/agents/comptes/{theirs.pk}/" not in page
    activity = supervisor.get("/agents/activite/").content.decode()
    assert REASON in activity and pension_agent.agent.email in activity
    assert "Appel de la Caisse" not in activity and str(theirs.pk) not in activity
    assert farm_agent.agent.email not in activity   # neither its events nor its name in the list of agents
    everything = agent_client(make_agent(role="supervisor")).get("/agents/activite/").content.decode()
    assert "Appel de la Caisse" in everything and REASON in everything


def test_the_member_page_shows_the_record_and_the_account_state(make_agent, agent_client, make_account,
                                                               pension) -> None:
    account = make_account(pension, factors=("email", "sms"), mobile="+33612345678")
    now = timezone.now()
    devices.remember(account, days=30, label="Firefox", now=now)
    key = lockout.identity_key("account", str(account.pk))
    for _ in range(pension.policy.login.lockout.max_failures):
        lockout.record_failure(pension, key, pension.policy.login.lockout, now)
    page = agent_client(make_agent(pension)).get(f"/agents/comptes/{account.pk}/").content.decode()
    assert account.member.member_number in page and account.email in page
    assert 'data-state="active"' in page and 'data-locked="yes"' in page and 'data-devices="1"' in page
    assert 'data-factors="email sms"' in page
    assert "account.created" in page   # the audit trail, newest first


def test_an_agent_cannot_see_nor_act_on_another_organisations_member(make_agent, agent_client, make_account,
                                                                     pension, farm) -> None:
    other = make_account(farm)
    client = agent_client(make_agent(pension))
    assert client.get(f"/agents/comptes/{other.pk}/").status_code == 404
    response = client.post(f"/agents/comptes/{other.pk}/disable/", {"reason": REASON})
    assert response.status_code == 404
    response = client.post(f"/agents/comptes/{other.pk}/end_sessions/", {"reason": REASON})
    assert response.status_code == 404
    assert not Event.objects.filter(kind__startswith="backoffice.").exclude(kind="backoffice.refused").exists()
    assert not Event.objects.filter(account_id=other.pk, actor__startswith="agent:").exists()


def test_refused_attempts_are_audited_without_confirming_an_account_elsewhere(make_agent, agent_client,
                                                                             make_account, pension, farm) -> None:
    """A plain agent trying a supervisor-only action (403) or an account of another organisation (404) leaves
    a `backoffice.refused` with the agent; the other organisation's account is recorded exactly as an unknown
    one, without its id, and the answers are the same."""
    import uuid

    mine, theirs = make_account(pension), make_account(farm)
    enrolled = make_agent(pension)
    client = agent_client(enrolled)
    assert client.post(f"/agents/comptes/{mine.pk}/disable/", {"reason": REASON}).status_code == 403
    assert client.post(f"/agents/comptes/{mine.pk}/remove_factors/", {"reason": REASON}).status_code == 403
    assert client.post(f"/agents/comptes/{mine.pk}/bogus/", {"reason": REASON}).status_code == 403
    assert client.get("/agents/activite/").status_code == 403
    elsewhere = client.post(f"/agents/comptes/{theirs.pk}/disable/", {"reason": REASON})
    nowhere = client.post(f"/agents/comptes/{uuid.uuid4()}/disable/", {"reason": REASON})
    assert elsewhere.status_code == nowhere.status_code == 404
    assert elsewhere.content == nowhere.content
    assert client.get(f"/agents/comptes/{theirs.pk}/").status_code == 404
    refused = Event.objects.filter(kind="backoffice.refused").order_by("id")
    assert all(e.actor == enrolled.agent.actor and e.ip == "127.0.0.1" for e in refused)
    assert [(e.data["action"], e.data["refusal"], e.account_id, e.organisation) for e in refused] == [
        ("disable", "supervisor_only", mine.pk, pension), ("remove_factors", "supervisor_only", mine.pk, pension),
        ("bogus", "unknown_action", mine.pk, pension), ("activity", "supervisor_only", None, None),
        ("disable", "not_found", None, None), ("disable", "not_found", None, None), ("view", "not_found", None, None)]
    assert str(theirs.pk) not in str(list(Event.objects.filter(actor=enrolled.agent.actor).values()))
    mine.refresh_from_db()
    assert mine.state == Account.State.ACTIVE
    activity = agent_client(make_agent(role="supervisor")).get("/agents/activite/").content.decode()
    assert "backoffice.refused" in activity


def test_a_plain_agent_cannot_disable_an_account(make_agent, agent_client, make_account, pension) -> None:
    account = make_account(pension)
    client = agent_client(make_agent(pension))
    page = client.get(f"/agents/comptes/{account.pk}/").content.decode()
    assert "/disable/" not in page and "/unlock/" in page
    response = client.post(f"/agents/comptes/{account.pk}/disable/", {"reason": REASON})
    assert response.status_code == 403 and "backoffice.forbidden" in codes(response)
    account.refresh_from_db()
    assert account.state == Account.State.ACTIVE
    assert client.get("/agents/activite/").status_code == 403


@pytest.mark.parametrize("action", ["unlock", "revoke_devices", "end_sessions", "reset_password", "disable"])
@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_each_action_needs_a_reason_and_changes_nothing_without_one(make_agent, agent_client, make_account,
                                                                    pension, action: str, reason: str) -> None:
    account = make_account(pension)
    devices.remember(account, days=30, label="Firefox", now=timezone.now())
    before = Account.objects.filter(pk=account.pk).values().get()
    client = agent_client(make_agent(role="supervisor"))
    events = Event.objects.count()
    response = client.post(f"/agents/comptes/{account.pk}/{action}/", {"reason": reason, "channel": "email"})
    # The page shown again with the error is a view of the member's data, audited as such; nothing else is.
    assert Event.objects.filter(kind="backoffice.member_viewed", account_id=account.pk).count() == 1
    events += 1
    assert response.status_code == 400
    expected = "backoffice.reason_too_long" if reason.strip() else "backoffice.reason_required"
    assert expected in codes(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert Account.objects.filter(pk=account.pk).values().get() == before
    assert RememberedDevice.objects.filter(account=account, revoked_at=None).count() == 1
    assert Event.objects.count() == events


@pytest.mark.parametrize("action, kinds", [
    ("unlock", {"account.unlocked"}),
    ("revoke_devices", {"device.revoked"}),
    ("end_sessions", {"sessions.ended"}),
    ("disable", {"account.disabled", "sessions.ended"}),
])
def test_each_action_is_audited_with_the_agent_and_the_reason(make_agent, agent_client, make_account, pension,
                                                              action: str, kinds: set[str]) -> None:
    account = make_account(pension)
    supervisor = make_agent(role="supervisor")
    client = agent_client(supervisor)
    response = client.post(f"/agents/comptes/{account.pk}/{action}/", {"reason": f"  {REASON}  "})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert f"backoffice.done.{action}" in codes(page)
    event = Event.objects.get(kind=f"backoffice.{action}", account_id=account.pk)
    assert event.actor == f"agent:{supervisor.agent.pk}" and event.data["reason"] == REASON
    assert event.organisation == pension and event.ip == "127.0.0.1"
    for kind in kinds:
        assert Event.objects.filter(kind=kind, account_id=account.pk, actor=event.actor).exists()
    assert REASON in page.content.decode()   # the trail shows the reason
    activity = client.get("/agents/activite/").content.decode()
    assert f"backoffice.{action}" in activity and supervisor.agent.name in activity


def test_disable_then_enable(make_agent, agent_client, make_account, pension) -> None:
    account = make_account(pension)
    client = agent_client(make_agent(pension, role="supervisor"))
    client.post(f"/agents/comptes/{account.pk}/disable/", {"reason": REASON})
    account.refresh_from_db()
    assert account.state == Account.State.DISABLED
    again = client.post(f"/agents/comptes/{account.pk}/disable/", {"reason": REASON})
    assert again.status_code == 400 and "backoffice.already_disabled" in codes(again)
    client.post(f"/agents/comptes/{account.pk}/enable/", {"reason": REASON})
    account.refresh_from_db()
    assert account.state == Account.State.ACTIVE


def test_resend_activation_for_a_pending_account(make_agent, agent_client, make_account, pension,
                                                 smtp_sink) -> None:
    pending = make_account(pension, state="pending")
    active = make_account(pension)
    client = agent_client(make_agent(pension))
    assert "/resend_activation/" not in client.get(f"/agents/comptes/{active.pk}/").content.decode()
    refused = client.post(f"/agents/comptes/{active.pk}/resend_activation/", {"reason": REASON})
    assert refused.status_code == 400 and "backoffice.not_pending" in codes(refused)
    response = client.post(f"/agents/comptes/{pending.pk}/resend_activation/", {"reason": REASON})
    assert response.status_code == 302
    email = smtp_sink.last_to(pending.email)
    assert f"/o/{pension.slug}/inscription/?lien=" in email.link
    assert Event.objects.filter(kind="activation.link_sent", account_id=pending.pk, data__reason=REASON).exists()


def test_every_post_needs_the_csrf_token(make_agent, make_account, pension) -> None:
    from django.test import Client

    account = make_account(pension)
    client = Client(enforce_csrf_checks=True)
    page = client.get("/agents/connexion/").content.decode()
    token = must_find(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    enrolled = make_agent(pension)
    client.post("/agents/connexion/", {"email": enrolled.agent.email, "password": "Quatre-Chevaux-Verts-1987!",
                                       "code": enrolled.code(), "csrfmiddlewaretoken": token})
    assert client.get("/agents/").status_code == 200
    response = client.post(f"/agents/comptes/{account.pk}/unlock/", {"reason": REASON})
    assert response.status_code == 403
    assert not Event.objects.filter(kind="backoffice.unlock").exists()
    page = client.get(f"/agents/comptes/{account.pk}/").content.decode()
    token = must_find(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    response = client.post(f"/agents/comptes/{account.pk}/unlock/", {"reason": REASON, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_searches_are_audited_with_what_they_found_but_not_the_text_typed(make_agent, agent_client, make_account,
                                                                          pension, farm) -> None:
    account = make_account(pension, email="helene.darcy@example.org")
    MemberRecord.objects.filter(pk=account.member_id).update(first_name="Hélène", last_name="D'Arcy",
                                                             first_name_key="helene", last_name_key="darcy")
    enrolled = make_agent(pension, farm)
    client = agent_client(enrolled)
    assert client.get("/agents/", {"by": "name", "q": "Hélène D'Arcy"}).status_code == 200
    event = Event.objects.get(kind="backoffice.searched")
    assert event.actor == enrolled.agent.actor and event.ip == "127.0.0.1" and event.organisation is None
    assert event.data == {"by": "name", "results": 1, "records": [account.member_id], "accounts": [str(account.pk)]}
    stored = str(Event.objects.filter(kind="backoffice.searched").values().get()).lower()
    assert "darcy" not in stored and "arcy" not in stored and "helene" not in stored   # personal data stays out
    response = client.get("/agents/", {"by": "email", "q": "nobody@example.org", "organisation": farm.slug})
    assert response.status_code == 200 and f'value="{farm.slug}" selected' in response.content.decode()
    nothing = Event.objects.filter(kind="backoffice.searched").latest("id")
    assert nothing.organisation == farm and nothing.data == {"by": "email", "results": 0, "records": [],
                                                             "accounts": []}
    assert "nobody" not in str(Event.objects.filter(pk=nothing.pk).values().get())
    client.get("/agents/", {"by": "name", "q": "  "})   # nothing looked up: nothing to record
    assert Event.objects.filter(kind="backoffice.searched").count() == 2
    activity = agent_client(make_agent(role="supervisor")).get("/agents/activite/").content.decode()
    assert "backoffice.searched" in activity


def test_each_view_of_a_member_page_is_audited_with_the_agent(make_agent, agent_client, make_account, pension,
                                                              farm) -> None:
    account = make_account(pension)
    enrolled = make_agent(pension)
    client = agent_client(enrolled)
    page = client.get(f"/agents/comptes/{account.pk}/").content.decode()
    event = Event.objects.get(kind="backoffice.member_viewed")
    assert event.actor == enrolled.agent.actor and event.account_id == account.pk
    assert event.organisation == pension and event.ip == "127.0.0.1"
    assert event.data == {"record": account.member_id}
    assert "backoffice.member_viewed" in page   # the member's trail shows who looked, this view included
    client.get(f"/agents/comptes/{account.pk}/", {"page": 2})
    assert Event.objects.filter(kind="backoffice.member_viewed", account_id=account.pk).count() == 2
    other = make_account(farm)
    assert client.get(f"/agents/comptes/{other.pk}/").status_code == 404   # nothing shown, nothing recorded
    assert not Event.objects.filter(kind="backoffice.member_viewed", account_id=other.pk).exists()


def test_disabling_from_the_console_cancels_the_links_and_codes_already_sent(make_agent, agent_client,
                                                                            make_account, pension) -> None:
    from guichet.challenges import secrets
    from guichet.challenges.models import Challenge

    account = make_account(pension)
    now = timezone.now()
    link = secrets.issue_link(organisation=pension, purpose="recovery", lifetime=timedelta(hours=1),
                              now=now, account=account)
    secrets.issue_code(organisation=pension, purpose="recovery_code", scope=f"link:{link.challenge.pk}", length=6,
                       lifetime=timedelta(hours=1), max_attempts=5, now=now, account=account)
    unrelated = make_account(pension)
    secrets.issue_link(organisation=pension, purpose="recovery", lifetime=timedelta(hours=1), now=now,
                       account=unrelated)
    supervisor = make_agent(role="supervisor")
    client = agent_client(supervisor)
    assert client.post(f"/agents/comptes/{account.pk}/disable/", {"reason": REASON}).status_code == 302
    assert not Challenge.objects.filter(account=account, replaced_at=None).exists()
    assert Challenge.objects.filter(account=unrelated, replaced_at=None).count() == 1
    event = Event.objects.get(kind="account.disabled", account_id=account.pk)
    assert event.actor == supervisor.agent.actor and event.data["challenges_cancelled"] == 2
    assert not secrets.peek_link(purpose="recovery", token=link.secret, now=timezone.now()).ok
    client.post(f"/agents/comptes/{account.pk}/enable/", {"reason": REASON})
    assert not secrets.peek_link(purpose="recovery", token=link.secret, now=timezone.now()).ok
