"""Console sign-in: email + password + authenticator code, one answer for every failure, lock-out,
separate session with its own idle timeout, enrolment from the command's link, CSRF."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from io import StringIO

import pyotp
import pytest
from django.core.management import call_command
from django.test import Client

from guichet.audit.models import Event
from guichet.backoffice import sessions
from guichet.backoffice.conftest import AGENT_PASSWORD, must_find, sign_in
from guichet.backoffice.models import Agent, AgentThrottle

pytestmark = pytest.mark.django_db


def notice_codes(response) -> set[str]:
    return set(re.findall(r'data-code="([^"]+)"', response.content.decode()))


def test_email_password_and_code_open_a_console_session_with_a_new_key(make_agent, pension) -> None:
    enrolled = make_agent(pension)
    client = Client()
    client.get("/agents/connexion/")
    before = client.session.session_key
    response = sign_in(client, enrolled)
    assert response.status_code == 302 and response["Location"] == "/agents/"
    assert client.session[sessions.AGENT_KEY] == enrolled.agent.pk
    assert client.session.session_key != before          # no session fixation
    assert "_auth_user_id" not in client.session          # an agent is not a member
    assert client.get("/agents/").status_code == 200
    assert Event.objects.filter(kind="agent.login.succeeded", actor=enrolled.agent.actor).exists()
    enrolled.agent.refresh_from_db()
    assert enrolled.agent.last_login is not None


def test_console_pages_need_a_signed_in_agent(pension, make_account) -> None:
    account = make_account(pension)
    client = Client()
    for path in ("/agents/", f"/agents/comptes/{account.pk}/", "/agents/activite/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/agents/connexion/?suite=")


def test_a_signed_in_member_is_not_an_agent(pension, make_account) -> None:
    client = Client()
    client.force_login(make_account(pension), backend="guichet.identities.backend.AccountBackend")
    assert client.get("/agents/").status_code == 302


@pytest.mark.parametrize("case", ["unknown_email", "wrong_password", "wrong_code", "missing_totp", "disabled"])
def test_every_failure_gives_the_same_answer(make_agent, pension, case: str) -> None:
    enrolled = make_agent(pension)
    agent = enrolled.agent
    values = {"email": agent.email, "password": AGENT_PASSWORD, "code": enrolled.code()}
    if case == "unknown_email":
        values["email"] = "nobody@caisse.example"
    elif case == "wrong_password":
        values["password"] = "Not-The-Password-42!"
    elif case == "wrong_code":
        values["code"] = "000000" if values["code"] != "000000" else "111111"
    elif case == "missing_totp":
        Agent.objects.filter(pk=agent.pk).update(totp_secret="")
    else:
        Agent.objects.filter(pk=agent.pk).update(active=False)
    client = Client()
    response = client.post("/agents/connexion/", values)
    assert response.status_code == 400
    assert notice_codes(response) == {"backoffice.login_invalid"}
    assert sessions.AGENT_KEY not in client.session
    assert Event.objects.filter(kind="agent.login.failed").count() == 1


def test_empty_fields_are_named(make_agent, pension) -> None:
    response = Client().post("/agents/connexion/", {"email": "", "password": "", "code": ""})
    assert response.status_code == 400
    assert response.content.decode().count('data-code="field.required"') == 3


def test_five_failures_lock_the_agent_even_with_the_right_credentials_after(make_agent, pension) -> None:
    enrolled = make_agent(pension)
    client = Client()
    for _ in range(5):
        assert sign_in(client, enrolled, password="Wrong-Password-123!").status_code == 400
    assert AgentThrottle.objects.get().locked_until is not None
    response = sign_in(client, enrolled)
    assert response.status_code == 400 and notice_codes(response) == {"backoffice.login_invalid"}
    assert Event.objects.filter(kind="agent.login.failed", data__reason="locked").count() == 1
    # The operator can lift the lock.
    call_command("agents", "unlock", "--email", enrolled.agent.email, stdout=StringIO())
    assert sign_in(client, enrolled).status_code == 302


def a_while_later(enrolled) -> None:
    """30 seconds on: the authenticator shows a code not used yet (each code signs in once)."""
    Agent.objects.filter(pk=enrolled.agent.pk).update(totp_last_step=None)


def test_a_strangers_failures_do_not_lock_an_agent_out_of_their_browser(make_agent, pension) -> None:
    from guichet.backoffice import devices

    enrolled = make_agent(pension)
    own = Client()
    assert sign_in(own, enrolled).status_code == 302                 # marks the agent's browser
    assert devices.COOKIE in own.cookies
    own.post("/agents/deconnexion/")
    for _ in range(5):                                              # a stranger who knows the email
        sign_in(Client(), enrolled, password="Wrong-Password-123!")
    a_while_later(enrolled)
    assert sign_in(Client(), enrolled).status_code == 400            # locked everywhere else
    assert sign_in(own, enrolled).status_code == 302                 # not in the agent's browser
    own.post("/agents/deconnexion/")

    for _ in range(5):                                              # the browser counts its own failures
        sign_in(own, enrolled, password="Wrong-Password-123!")
    a_while_later(enrolled)
    assert sign_in(own, enrolled).status_code == 400
    assert AgentThrottle.objects.filter(locks=1).count() == 2
    call_command("agents", "unlock", "--email", enrolled.agent.email, stdout=StringIO())   # clears both
    assert not AgentThrottle.objects.exists()
    assert sign_in(own, enrolled).status_code == 302


def test_a_mark_copied_before_the_last_sign_in_counts_on_its_own(make_agent, pension) -> None:
    from guichet.backoffice import devices

    enrolled = make_agent(pension)
    own = Client()
    assert sign_in(own, enrolled).status_code == 302
    copied = Client()
    copied.cookies[devices.COOKIE] = own.cookies[devices.COOKIE].value
    own.post("/agents/deconnexion/")
    a_while_later(enrolled)
    assert sign_in(own, enrolled).status_code == 302                 # a new nonce
    own.post("/agents/deconnexion/")
    for _ in range(5):
        sign_in(copied, enrolled, password="Wrong-Password-123!")
    a_while_later(enrolled)
    assert sign_in(own, enrolled).status_code == 302                 # the copy's lock is not the browser's


def test_another_agents_or_a_forged_mark_gives_no_counter_of_its_own(make_agent, pension) -> None:
    from guichet.backoffice import devices

    enrolled, colleague = make_agent(pension), make_agent(pension)
    shared = Client()
    assert sign_in(shared, colleague).status_code == 302              # the colleague's browser
    shared.post("/agents/deconnexion/")
    forged = Client()
    forged.cookies[devices.COOKIE] = shared.cookies[devices.COOKIE].value[:-2] + "xx"
    for _ in range(5):
        sign_in(shared, enrolled, password="Wrong-Password-123!")
    assert AgentThrottle.objects.get().agent is None                 # the agent's own counter: locked
    for browser in (shared, forged):
        assert sign_in(browser, enrolled).status_code == 400


@pytest.mark.parametrize("quiet, locked_again", [(timedelta(hours=23), True), (timedelta(hours=24), False),
                                                 (timedelta(days=90), False)])
def test_an_agents_failures_and_locks_are_forgotten_after_a_quiet_day(make_agent, quiet: timedelta,
                                                                      locked_again: bool) -> None:
    """Within a day of the last lock's end, one more failure locks again (escalation); after a quiet day
    (throttle.RULE.forget_after) the record is forgotten, so a stranger who knows the agent's email cannot
    lock them again with a single request: the agent's own sign-in then goes through."""
    from django.utils import timezone

    from guichet.backoffice import throttle

    assert throttle.RULE.forget_after == timedelta(hours=24)
    enrolled = make_agent(role="supervisor")
    for _ in range(5):
        sign_in(Client(), enrolled, password="wrong-password-123456")
    ended = timezone.now() - quiet
    AgentThrottle.objects.update(locked_until=ended, last_failure_at=ended - timedelta(minutes=15))
    sign_in(Client(), enrolled, password="wrong-password-123456")          # one request from anyone
    row = AgentThrottle.objects.get()
    assert (row.locked_until is not None and row.locked_until > timezone.now()) is locked_again
    assert row.failures == (6 if locked_again else 1)
    assert (sign_in(Client(), enrolled).status_code == 302) is not locked_again


def test_a_code_is_accepted_once(make_agent, pension) -> None:
    enrolled = make_agent(pension)
    code = enrolled.code()
    assert sign_in(Client(), enrolled, code=code).status_code == 302
    assert sign_in(Client(), enrolled, code=code).status_code == 400   # replayed by someone who saw it


def test_the_console_session_ends_after_15_idle_minutes(make_agent, agent_client, pension) -> None:
    client = agent_client(make_agent(pension))
    session = client.session
    session[sessions.SEEN_KEY] = time.time() - 15 * 60 - 5
    session.save()
    response = client.get("/agents/")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "backoffice.session_expired" in notice_codes(page)
    assert sessions.AGENT_KEY not in client.session


def session_end(enrolled) -> Event:
    """The one audited end of this agent's console session."""
    return Event.objects.get(kind="agent.logout", actor=enrolled.agent.actor)


@pytest.mark.parametrize("idle, age, reason", [(15 * 60 + 5, 15 * 60 + 5, "idle"),
                                                (60, 10 * 3600 + 5, "max_duration")])
def test_the_end_of_a_session_by_time_is_audited_with_the_agent(make_agent, agent_client, pension, idle: int,
                                                                 age: int, reason: str) -> None:
    enrolled = make_agent(pension)
    client = agent_client(enrolled)
    session = client.session
    session[sessions.SEEN_KEY], session[sessions.SINCE_KEY] = time.time() - idle, time.time() - age
    session.save()
    assert client.get("/agents/").status_code == 302
    event = session_end(enrolled)
    assert event.data["reason"] == reason and event.data["agent_id"] == enrolled.agent.pk
    assert event.ip == "127.0.0.1" and event.data["seconds"] >= age
    client.post("/agents/deconnexion/")   # already ended: no second end, no "signed out" on top
    assert Event.objects.filter(kind="agent.logout").count() == 1


def test_disabling_an_agent_or_a_new_enrolment_ends_their_session(make_agent, agent_client, pension) -> None:
    enrolled = make_agent(pension)
    client = agent_client(enrolled)
    call_command("agents", "enrolment", "--email", enrolled.agent.email, stdout=StringIO())
    assert client.get("/agents/").status_code == 302
    assert session_end(enrolled).data["reason"] == "credentials_changed"
    other = make_agent(pension)
    client = agent_client(other)
    call_command("agents", "disable", "--email", other.agent.email, stdout=StringIO())
    assert client.get("/agents/").status_code == 302
    assert session_end(other).data["reason"] == "agent_disabled"


def test_sign_out(make_agent, agent_client, pension) -> None:
    enrolled = make_agent(pension)
    client = agent_client(enrolled)
    response = client.post("/agents/deconnexion/")
    assert response["Location"] == "/agents/connexion/?deconnecte=1"
    assert client.get("/agents/").status_code == 302


def test_sign_out_is_audited_with_the_agent_as_actor(make_agent, agent_client, pension) -> None:
    enrolled = make_agent(pension)
    client = agent_client(enrolled)
    client.post("/agents/deconnexion/")
    event = session_end(enrolled)
    assert event.data["reason"] == "signed_out" and event.ip == "127.0.0.1" and event.data["seconds"] >= 0
    client.post("/agents/deconnexion/")   # nobody signed in any more: nothing to record
    assert Event.objects.filter(kind="agent.logout").count() == 1
    # Another agent signing in over a console session in the same browser ends it, recorded too.
    first, successor = make_agent(pension), make_agent(pension)
    client = agent_client(first)
    assert sign_in(client, successor).status_code == 302
    assert session_end(first).data["reason"] == "new_sign_in"


def test_the_sign_in_form_is_protected_against_cross_site_posts(make_agent, pension) -> None:
    enrolled = make_agent(pension)
    client = Client(enforce_csrf_checks=True)
    assert sign_in(client, enrolled).status_code == 403
    page = client.get("/agents/connexion/")
    token = must_find(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post("/agents/connexion/", {"email": enrolled.agent.email, "password": AGENT_PASSWORD,
                                                  "code": enrolled.code(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_the_redirect_after_sign_in_stays_in_the_console(make_agent, pension) -> None:
    enrolled = make_agent(pension)
    response = Client().post("/agents/connexion/", {"email": enrolled.agent.email, "password": AGENT_PASSWORD,
                                                    "code": enrolled.code(), "suite": "//evil.example/agents/"})
    assert response["Location"] == "/agents/"


def _enrolment_link(output: str) -> str:
    return must_find(r"https?://\S+/agents/activation/\?jeton=\S+", output)[0]


def test_create_then_enrol_from_the_printed_link_then_sign_in(pension, farm) -> None:
    out = StringIO()
    call_command("agents", "create", "--email", "Marie.Martin@Caisse.example", "--name", "Marie Martin",
                 "--role", "agent", "--organisation", pension.slug, farm.slug, stdout=out)
    agent = Agent.objects.get(email="marie.martin@caisse.example")
    assert set(agent.organisations.values_list("slug", flat=True)) == {pension.slug, farm.slug}
    assert not agent.enrolled
    link = _enrolment_link(out.getvalue())
    client = Client()
    response = client.get("/agents/activation/?" + link.split("?", 1)[1])
    assert response.status_code == 302 and response["Location"] == "/agents/activation/"  # token leaves the URL
    page = client.get("/agents/activation/").content.decode()
    key = must_find(r'<code class="key">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
    weak = client.post("/agents/activation/", {"password": "motdepasse", "password_confirmation": "motdepasse",
                                                "code": pyotp.TOTP(key).now()})
    assert weak.status_code == 400 and 'data-code="password.min_length"' in weak.content.decode()
    wrong = client.post("/agents/activation/", {"password": AGENT_PASSWORD, "password_confirmation": AGENT_PASSWORD,
                                                 "code": "000000" if pyotp.TOTP(key).now() != "000000" else "111111"})
    assert 'data-code="backoffice.enrolment_code_wrong"' in wrong.content.decode()
    done = client.post("/agents/activation/", {"password": AGENT_PASSWORD, "password_confirmation": AGENT_PASSWORD,
                                                "code": pyotp.TOTP(key).now()})
    assert done.status_code == 200 and 'data-code="backoffice.enrolled"' in done.content.decode()
    agent.refresh_from_db()
    assert agent.enrolled and agent.password.startswith("argon2$argon2id$") and key not in agent.totp_secret
    # The link works once.
    again = Client()
    again.get("/agents/activation/?" + link.split("?", 1)[1])
    assert 'data-code="backoffice.enrolment_invalid"' in again.get("/agents/activation/").content.decode()
    # The code used at enrolment cannot sign in; the app's next code (clock drift allowance) can.
    next_code = pyotp.TOTP(key).at(int(time.time()) + 30)
    response = Client().post("/agents/connexion/", {"email": "marie.martin@caisse.example",
                                                    "password": AGENT_PASSWORD, "code": next_code})
    assert response.status_code == 302


def test_create_refuses_bad_input_and_creates_nothing(pension) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="^organisation inconnue : nowhere ; rien n’a été créé$"):
        call_command("agents", "create", "--email", "a@caisse.example", "--name", "A", "--organisation", "nowhere",
                     stdout=StringIO())
    with pytest.raises(CommandError, match="au moins une --organisation"):
        call_command("agents", "create", "--email", "a@caisse.example", "--name", "A", stdout=StringIO())
    with pytest.raises(CommandError, match="au moins une --organisation"):   # no silent global reach
        call_command("agents", "create", "--email", "a@caisse.example", "--name", "A", "--role", "supervisor",
                     stdout=StringIO())
    with pytest.raises(CommandError, match="seul un superviseur"):
        call_command("agents", "create", "--email", "a@caisse.example", "--name", "A", "--all-organisations",
                     stdout=StringIO())
    with pytest.raises(CommandError, match="pas les deux"):
        call_command("agents", "create", "--email", "a@caisse.example", "--name", "A", "--role", "supervisor",
                     "--all-organisations", "--organisation", pension.slug, stdout=StringIO())
    assert not Agent.objects.exists()
    call_command("agents", "create", "--email", "a@caisse.example", "--name", "A", "--role", "supervisor",
                 "--all-organisations", stdout=StringIO())
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("agents", "create", "--email", "A@caisse.example", "--name", "B", "--role", "supervisor",
                     stdout=StringIO())
    listing = StringIO()
    call_command("agents", "list", stdout=listing)
    assert "a@caisse.example\tA\tsupervisor\tactive\tenrolment pending\tall organisations" in listing.getvalue()


def test_a_supervisor_created_for_one_organisation_reaches_only_that_one(agent_client, make_account, farm,
                                                                          health) -> None:
    """`agents create --role supervisor --organisation <farm>`: the supervisor, enrolled through the real page,
    helps the farm's members and cannot read nor act on the health mutual's (404, as for an unknown account);
    only `--all-organisations` gives every organisation, and `agents organisations` changes the reach."""
    from guichet.backoffice.conftest import Enrolled
    from guichet.identities.models import Account

    out = StringIO()
    call_command("agents", "create", "--email", "sup@caisse-agricole.example", "--name", "Superviseur Caisse",
                 "--role", "supervisor", "--organisation", farm.slug, stdout=out)
    assert f"(supervisor ; {farm.slug})" in out.getvalue()
    agent = Agent.objects.get(email="sup@caisse-agricole.example")
    client = Client()
    client.get("/agents/activation/?" + _enrolment_link(out.getvalue()).split("?", 1)[1])
    page = client.get("/agents/activation/").content.decode()
    seed = must_find(r'<code class="key">([^<]+)</code>', page)[1].replace(" ", "")
    done = client.post("/agents/activation/", {"password": AGENT_PASSWORD, "password_confirmation": AGENT_PASSWORD,
                                                "code": pyotp.TOTP(seed).now()})
    assert 'data-code="backoffice.enrolled"' in done.content.decode()
    Agent.objects.filter(pk=agent.pk).update(totp_last_step=None)   # the next sign-in may come within 30 s
    agent.refresh_from_db()
    supervisor = agent_client(Enrolled(agent, seed))
    mine, other = make_account(farm), make_account(health, address="3 rue X\n69000 LYON")
    assert supervisor.get(f"/agents/comptes/{mine.pk}/").status_code == 200
    page = supervisor.get(f"/agents/comptes/{other.pk}/")
    assert page.status_code == 404 and "69000 LYON" not in page.content.decode()
    assert supervisor.post(f"/agents/comptes/{other.pk}/disable/", {"reason": "Fraude"}).status_code == 404
    other.refresh_from_db()
    assert other.state == Account.State.ACTIVE
    found = supervisor.get("/agents/", {"by": "name", "q": "Dupont"}).content.decode()
    assert f"/agents/comptes/{mine.pk}/" in found and f"/agents/comptes/{other.pk}/" not in found
    # The operator widens the reach explicitly; it is audited.
    call_command("agents", "organisations", "--email", agent.email, "--all-organisations", stdout=StringIO())
    assert supervisor.get(f"/agents/comptes/{other.pk}/").status_code == 200
    changed = Event.objects.get(kind="agent.organisations_changed")
    assert changed.data["all_organisations"] is True and changed.data["previous"] == [farm.slug]
    listing = StringIO()
    call_command("agents", "list", stdout=listing)
    assert "sup@caisse-agricole.example\tSuperviseur Caisse\tsupervisor\tactive\tenrolled\tall organisations" \
        in listing.getvalue()
    call_command("agents", "organisations", "--email", agent.email, "--organisation", health.slug, stdout=StringIO())
    assert supervisor.get(f"/agents/comptes/{mine.pk}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_supervisors_without_organisations_stay_global_after_the_migration(organisations) -> None:
    """Migration 0002: supervisors created before it with no organisation reached them all and still do;
    a supervisor created with --organisation is held to it from then on, as a plain agent always was."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("backoffice", "0001_initial")], [("backoffice", "0002_agent_all_organisations")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("backoffice", "Agent")
    farm = next(iter(organisations.values())).pk
    old.objects.create(name="G", email="global@caisse.example", role="supervisor")
    old.objects.create(name="S", email="scoped@caisse.example", role="supervisor").organisations.set([farm])
    old.objects.create(name="A", email="agent@caisse.example", role="agent").organisations.set([farm])
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("backoffice", "Agent")
    assert dict(new.objects.values_list("email", "all_organisations")) == {
        "global@caisse.example": True, "scoped@caisse.example": False, "agent@caisse.example": False}
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_console_speaks_french_then_english(db) -> None:
    client = Client()
    assert "<h1>Connexion des agents</h1>" in client.get("/agents/connexion/").content.decode()
    client.cookies["guichet_language"] = "en"
    assert "<h1>Agent sign-in</h1>" in client.get("/agents/connexion/").content.decode()


def test_an_attempt_is_counted_before_its_password_is_checked(make_agent, pension, monkeypatch) -> None:
    """The argon2 check is slow: an attempt counted only after it lets parallel requests all read "not locked"."""
    from django.utils import timezone

    from guichet.backoffice import agents

    enrolled = make_agent(pension)
    real_check, seen = agents.check_password, []

    def check(password: str, encoded: str) -> bool:
        seen.append(AgentThrottle.objects.values_list("failures", flat=True).first())
        return real_check(password, encoded)

    monkeypatch.setattr(agents, "check_password", check)
    agents.authenticate(email=enrolled.agent.email, password="Wrong-Password-123!", code=enrolled.code(),
                        now=timezone.now(), ip=None)
    agents.authenticate(email="nobody@caisse.example", password="x", code="000000", now=timezone.now(), ip=None)
    assert seen == [1, 1]   # each identity's row already counts the attempt being checked
    assert agents.authenticate(email=enrolled.agent.email, password=AGENT_PASSWORD, code=enrolled.code(),
                               now=timezone.now(), ip=None) == enrolled.agent
    assert not AgentThrottle.objects.filter(key_hash=throttle_key(enrolled.agent)).exists()   # success clears


def throttle_key(agent: Agent) -> str:
    from guichet.backoffice import throttle

    return throttle.key_for(agent, agent.email)


def test_a_burst_of_parallel_guesses_gets_no_more_checks_than_the_lock_allows(make_agent, pension,
                                                                                monkeypatch) -> None:
    """Ten requests at once, the last with the right password: each arrives while the one before is having its
    password hashed (simulated by starting it from inside the check). Only five may be judged; the right
    password comes sixth or later and is refused like any attempt on a locked identity."""
    from collections import Counter

    from django.utils import timezone

    from guichet.backoffice import agents

    enrolled = make_agent(pension)
    real_check = agents.check_password
    burst = [f"Wrong-Guess-{n}-Zebra!" for n in range(9)] + [AGENT_PASSWORD]
    outcome: dict[str, Agent | None] = {}

    def attempt(password: str) -> None:
        outcome[password] = agents.authenticate(email=enrolled.agent.email, password=password,
                                                code=enrolled.code(), now=timezone.now(), ip="203.0.113.7")

    def check_while_the_next_arrives(password: str, encoded: str) -> bool:
        if burst:
            attempt(burst.pop(0))
        return real_check(password, encoded)

    monkeypatch.setattr(agents, "check_password", check_while_the_next_arrives)
    attempt(burst.pop(0))
    assert len(outcome) == 10 and outcome[AGENT_PASSWORD] is None
    assert not Event.objects.filter(kind="agent.login.succeeded").exists()
    reasons = Counter(Event.objects.filter(kind="agent.login.failed").values_list("data__reason", flat=True))
    assert reasons == {"credentials": 5, "locked": 5}
    assert AgentThrottle.objects.get().locked_until is not None
