"""What the actions do for the member, end to end: the member really signs in again after an unlock,
a temporary password really arrives (letter PDF, email, SMS) and works, and no agent page shows it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from guichet.audit.models import Event
from guichet.backoffice.conftest import must_find
from guichet.channels.models import Message
from guichet.conftest import PASSWORD
from guichet.identities.models import Account

pytestmark = pytest.mark.django_db

REASON = "Courrier du membre reçu le 03/02, signature vérifiée."
ADDRESS = "12 rue des Lilas\n75011 PARIS"


class MemberBrowser:
    """The member's sign-in pages through a Client, read like a browser would (backoffice may not import
    web's journey driver: import-linter)."""

    def __init__(self, slug: str, client: Client | None = None):
        self.client, self.path, self.html = client or Client(), f"/o/{slug}/connexion/", ""
        self._read(self.client.get(self.path))

    def _read(self, response) -> str:
        while response.status_code in (302, 303) and response["Location"].rstrip("/").endswith(self.path.rstrip("/")):
            response = self.client.get(self.path)
        if response.status_code in (302, 303):
            self.html = ""
            return "signed_in" if "/espace/" in response["Location"] else response["Location"]
        self.html = response.content.decode()
        return self.step

    @property
    def step(self) -> str:
        found = re.search(r'data-step="([^"]+)"', self.html)
        return found[1] if found else ""

    @property
    def codes(self) -> set[str]:
        return set(re.findall(r'data-code="([^"]+)"', self.html))

    def submit(self, values: dict[str, str], action: str) -> str:
        run = must_find(r'name="run" value="([^"]+)"', self.html)[1]
        return self._read(self.client.post(self.path, {**values, "run": run, "action": action}))


def sign_in_fully(client: Client, slug: str, account: Account, smtp_sink, password: str = PASSWORD) -> str:
    member = MemberBrowser(slug, client)
    assert member.submit({"identifier": account.email, "password": password}, "sign_in") == "second_factor"
    body = smtp_sink.last_to(account.email).body
    return member.submit({"code": must_find(r"\b(\d{6})\b", body)[1]}, "verify")


def test_unlock_lets_the_member_sign_in_again(make_agent, agent_client, make_account, pension) -> None:
    account = make_account(pension)
    member = MemberBrowser(pension.slug)
    for _ in range(pension.policy.login.lockout.max_failures):
        member.submit({"identifier": account.email, "password": "Not-My-Password-1!"}, "sign_in")
    locked = member.submit({"identifier": account.email, "password": PASSWORD}, "sign_in")
    assert locked == "credentials" and "login.invalid" in member.codes   # locked: right password refused
    client = agent_client(make_agent(pension))
    assert 'data-locked="yes"' in client.get(f"/agents/comptes/{account.pk}/").content.decode()
    client.post(f"/agents/comptes/{account.pk}/unlock/", {"reason": REASON})
    assert 'data-locked="no"' in client.get(f"/agents/comptes/{account.pk}/").content.decode()
    assert member.submit({"identifier": account.email, "password": PASSWORD}, "sign_in") == "second_factor"


def test_the_agent_sees_a_lock_on_the_members_own_device_and_unlocks_it(make_agent, agent_client, make_account,
                                                                          pension, smtp_sink) -> None:
    account = make_account(pension)
    own = Client()
    member = MemberBrowser(pension.slug, own)
    assert member.submit({"identifier": account.email, "password": PASSWORD}, "sign_in") == "second_factor"
    code = must_find(r"\b(\d{6})\b", smtp_sink.last_to(account.email).body)[1]
    assert member.submit({"code": code, "remember": "on"}, "verify") == "signed_in"
    own.post(f"/api/o/{pension.slug}/logout")
    for _ in range(pension.policy.login.lockout.max_failures):   # the member's own typos, on their device
        MemberBrowser(pension.slug, own).submit({"identifier": account.email, "password": "Not-My-Password-1!"},
                                               "sign_in")
    client = agent_client(make_agent(pension))
    assert 'data-locked="yes"' in client.get(f"/agents/comptes/{account.pk}/").content.decode()
    client.post(f"/agents/comptes/{account.pk}/unlock/", {"reason": REASON})
    assert 'data-locked="no"' in client.get(f"/agents/comptes/{account.pk}/").content.decode()
    assert MemberBrowser(pension.slug, own).submit({"identifier": account.email, "password": PASSWORD},
                                                   "sign_in") == "signed_in"   # remembered: no code


def test_end_sessions_signs_the_member_out(make_agent, agent_client, make_account, pension, smtp_sink) -> None:
    account = make_account(pension)
    member = Client()
    assert sign_in_fully(member, pension.slug, account, smtp_sink) == "signed_in"
    assert member.get(f"/o/{pension.slug}/espace/").status_code == 200
    agent_client(make_agent(pension)).post(f"/agents/comptes/{account.pk}/end_sessions/", {"reason": REASON})
    response = member.get(f"/o/{pension.slug}/espace/")
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_reset_by_letter_puts_the_temporary_password_in_the_pdf_never_on_the_agents_page(
        make_agent, agent_client, make_account, pension, postal_spool) -> None:
    account = make_account(pension, address=ADDRESS)
    client = agent_client(make_agent(pension))
    response = client.post(f"/agents/comptes/{account.pk}/reset_password/", {"reason": REASON, "channel": "letter"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    letter = postal_spool.last()
    text = letter.text
    assert "DUPONT" in text and "75011 PARIS" in text
    length = pension.policy.recovery.temporary_password.length
    password = next(word for word in re.findall(rf"\b[A-Za-z0-9]{{{length}}}\b", text)
                    if Account.objects.get(pk=account.pk).check_password(word))
    search = client.get("/agents/", {"by": "name", "q": "dupont"}).content.decode()
    assert password not in page and password not in search
    account.refresh_from_db()
    assert account.must_change_password and account.password_expires_at is not None
    event = Event.objects.get(kind="backoffice.reset_password")
    assert event.data == {"reason": REASON, "channel": "letter"}
    assert password not in str(list(Event.objects.values_list("data", flat=True)))


def test_reset_by_email_and_the_member_signs_in_with_it(make_agent, agent_client, make_account, pension,
                                                        smtp_sink) -> None:
    account = make_account(pension)
    client = agent_client(make_agent(pension))
    client.post(f"/agents/comptes/{account.pk}/reset_password/", {"reason": REASON, "channel": "email"})
    password = smtp_sink.last_to(account.email).code
    assert password not in client.get(f"/agents/comptes/{account.pk}/").content.decode()
    member = MemberBrowser(pension.slug)
    assert member.submit({"identifier": account.email, "password": PASSWORD}, "sign_in") == "credentials"
    assert member.submit({"identifier": account.email, "password": password}, "sign_in") not in ("credentials", "")


def test_reset_by_sms(make_agent, agent_client, make_account, pension, sms_sink) -> None:
    account = make_account(pension, mobile="06 12 34 56 78")
    client = agent_client(make_agent(pension))
    client.post(f"/agents/comptes/{account.pk}/reset_password/", {"reason": REASON, "channel": "sms"})
    sms = sms_sink.last_to("+33612345678")
    length = pension.policy.recovery.temporary_password.length
    password = must_find(rf"\b[A-Za-z0-9]{{{length}}}\b", sms.text)[0]
    assert Account.objects.get(pk=account.pk).check_password(password)


def test_reset_needs_a_channel_that_reaches_the_member(make_agent, agent_client, make_account, pension) -> None:
    account = make_account(pension)   # no address, no mobile
    client = agent_client(make_agent(pension))
    page = client.get(f"/agents/comptes/{account.pk}/").content.decode()
    assert must_find(r'id="reset_password-channel-letter"[^>]*disabled', page)
    for channel, code in (("", "backoffice.channel_required"), ("pigeon", "backoffice.channel_required"),
                          ("letter", "backoffice.no_destination"), ("sms", "backoffice.no_destination")):
        response = client.post(f"/agents/comptes/{account.pk}/reset_password/", {"reason": REASON, "channel": channel})
        assert response.status_code == 400 and f'data-code="{code}"' in response.content.decode()
    assert Account.objects.get(pk=account.pk).check_password(PASSWORD)
    assert not Message.objects.filter(template="temporary_password").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_what_an_agent_sends_speaks_the_language_the_member_last_used(
        make_agent, agent_client, make_account, pension, smtp_sink, language: str) -> None:
    account = make_account(pension)
    assert sign_in_fully(Client(HTTP_ACCEPT_LANGUAGE=language), pension.slug, account, smtp_sink) == "signed_in"
    agent_client(make_agent(pension)).post(f"/agents/comptes/{account.pk}/reset_password/",
                                           {"reason": REASON, "channel": "email"})
    sent = Message.objects.filter(account_id=account.pk, template="temporary_password").get()
    assert sent.language == language
    expected = {"en": "temporary password", "fr": "mot de passe provisoire"}[language]
    assert expected in (sent.subject + sent.body).lower()


def test_no_temporary_password_nor_link_is_sent_for_a_disabled_account(make_agent, agent_client, make_account,
                                                                        pension, smtp_sink) -> None:
    """An account is disabled because something is wrong (a stolen mailbox): the console neither offers nor
    does what would put a working credential in the channel on record, for a plain agent or a supervisor."""
    account = make_account(pension)
    pending = make_account(pension, state="pending")
    supervisor = agent_client(make_agent(role="supervisor"))
    for disabled in (account, pending):
        assert supervisor.post(f"/agents/comptes/{disabled.pk}/disable/",
                               {"reason": "Boîte mail du membre piratée"}).status_code == 302
    plain = agent_client(make_agent(pension))
    for client in (plain, supervisor):
        page = client.get(f"/agents/comptes/{account.pk}/").content.decode()
        assert "/reset_password/" not in page and "/resend_activation/" not in page
        assert "/unlock/" in page   # what gives nothing to anyone stays available
        for disabled, action in ((account, "reset_password"), (pending, "resend_activation")):
            response = client.post(f"/agents/comptes/{disabled.pk}/{action}/", {"reason": REASON, "channel": "email"})
            assert response.status_code == 400
            assert must_find(r'class="error-summary" role="alert" data-code="([^"]+)"',
                             response.content.decode())[1] == "backoffice.account_disabled"
    assert not Message.objects.filter(account_id__in=[account.pk, pending.pk]).exists()   # nothing sent at all
    account.refresh_from_db()
    assert account.check_password(PASSWORD) and not account.must_change_password
    assert not Event.objects.filter(kind__in=("backoffice.reset_password", "backoffice.resend_activation",
                                              "password.temporary_set")).exists()


def test_enabling_an_account_revives_no_temporary_password(make_agent, agent_client, make_account, pension,
                                                           smtp_sink) -> None:
    """A temporary password sent before the account was disabled (perhaps to the thief's mailbox) is cancelled
    when a supervisor enables the account, as its links and codes are: a fresh reset is needed."""
    account = make_account(pension)
    plain = agent_client(make_agent(pension))
    plain.post(f"/agents/comptes/{account.pk}/reset_password/", {"reason": REASON, "channel": "email"})
    password = smtp_sink.last_to(account.email).code
    assert Account.objects.get(pk=account.pk).check_password(password)
    supervisor = agent_client(make_agent(role="supervisor"))
    supervisor.post(f"/agents/comptes/{account.pk}/disable/", {"reason": "Boîte mail du membre piratée"})
    response = supervisor.post(f"/agents/comptes/{account.pk}/enable/", {"reason": "Boîte mail récupérée"})
    assert response.status_code == 302
    page = supervisor.get(response["Location"]).content.decode()
    assert 'data-code="backoffice.done.enable_password_cleared"' in page
    account.refresh_from_db()
    assert account.state == Account.State.ACTIVE and not account.has_usable_password()
    assert not account.must_change_password
    assert Event.objects.get(kind="account.enabled", account_id=account.pk).data["password_cleared"] is True
    member = MemberBrowser(pension.slug)
    assert member.submit({"identifier": account.email, "password": password}, "sign_in") == "credentials"
    # A fresh reset, now that the account is enabled, works.
    plain.post(f"/agents/comptes/{account.pk}/reset_password/", {"reason": REASON, "channel": "email"})
    fresh = smtp_sink.last_to(account.email).code
    assert member.submit({"identifier": account.email, "password": fresh}, "sign_in") not in ("credentials", "")


def test_a_password_set_while_the_account_was_disabled_never_becomes_live(make_agent, agent_client, make_account,
                                                                         pension) -> None:
    """Defence in depth: should any path set a password on a disabled account (the console refuses to), enabling
    the account clears it; a password the member chose before the disabling is kept."""
    from django.utils import timezone

    from guichet.identities import actions

    kept, armed = make_account(pension), make_account(pension)
    supervisor = agent_client(make_agent(role="supervisor"))
    for account in (kept, armed):
        supervisor.post(f"/agents/comptes/{account.pk}/disable/", {"reason": "Fraude suspectée"})
    armed.refresh_from_db()
    password = actions.set_temporary_password(armed, now=timezone.now(), actor="test", reason="a careless path")
    for account in (kept, armed):
        supervisor.post(f"/agents/comptes/{account.pk}/enable/", {"reason": "Fraude levée"})
        account.refresh_from_db()
        assert account.state == Account.State.ACTIVE
    assert kept.check_password(PASSWORD)
    assert not armed.check_password(password) and not armed.has_usable_password()
    member = MemberBrowser(pension.slug)
    assert member.submit({"identifier": armed.email, "password": password}, "sign_in") == "credentials"
