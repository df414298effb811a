"""The health mutual's "Update my account": an active account without an email address gets one, with a
new password.

Registering again proves only registry details (the member number and the end of an IBAN, which are not
secrets), and the emailed link proves only the new address: together they would let anyone who knows a
member's details take the account. So the account's owner must also agree through a channel that is
already on record, chosen here (`proof_for`): a code by text message to the account's mobile number,
else a code by post to the registry's postal address; with neither, the account is not updated online.
Once the change is made the owner is told on those same channels (`give_email_and_password`), never only
at the new address, which may be the intruder's.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from guichet.audit.record import record
from guichet.identities.actions.credentials import set_password
from guichet.identities.models import Account

if TYPE_CHECKING:
    from guichet.challenges.secrets import Result

# The emailed link (the registration journey opens it), the code by post (bound to the account and to the
# address the letter names), and the code by text message (bound to the journey run that sent it).
ACCOUNT_UPDATE_PURPOSE = "account_update"
LETTER_CODE_PURPOSE = "account_update_letter"
SMS_CODE_PURPOSE = "account_update_sms"

Proof = Literal["sms", "postal", ""]


def owner_language(account: Account) -> str:
    """What goes to the owner's own channels speaks the owner's language, not the asker's."""
    return account.language or settings.LANGUAGE_CODE


def postal_address(account: Account) -> list[str]:
    """The registry's address block, name first; empty when there is none a letter can go to, or when the
    record is no longer in the registry (the address may no longer be the member's)."""
    from guichet.channels import outbox

    member = account.member
    if member is None or not member.in_registry or not member.address.strip():
        return []
    name = " ".join(part for part in (member.first_name, member.last_name) if part)
    try:
        return outbox.address_lines([name, *member.address.splitlines()])
    except outbox.RecipientError:
        return []


def _usable_mobile(account: Account) -> bool:
    from guichet.channels import outbox

    try:
        return bool(account.mobile) and bool(outbox.phone_number(account.mobile))
    except outbox.RecipientError:
        return False


def proof_for(account: Account) -> Proof:
    """How the owner agrees: by text message when the account has a mobile number (proven when it was
    saved), else by post to the registry's address, else not online at all ("")."""
    if _usable_mobile(account):
        return "sms"
    return "postal" if postal_address(account) else ""


def _same_address(a: object, b: object) -> bool:
    return str(a or "").strip().lower() == str(b or "").strip().lower()


def letter_scope(account: Account) -> str:
    return f"account:{account.pk}"


def record_account_update_sent(account: Account, *, proof: Proof, ip: str | None = None) -> None:
    """Someone proved the member's registry details by registering again, and the account has no email
    address: a link went to the typed address (the account changes only when it is used, with the owner's
    code)."""
    record("registration.update_link_sent", organisation=account.organisation, account_id=account.id, ip=ip,
           proof=proof)


def refuse_account_update(account: Account, *, email: str, language: str, ip: str | None = None) -> None:
    """No channel on record to ask the owner: the typed address is told to contact the organisation, and
    nothing is offered that would change the account."""
    from guichet.channels import outbox

    outbox.send_email(account.organisation, to=email, template="registration_update_impossible", context={},
                      language=language, account_id=account.pk)
    record("registration.update_impossible", organisation=account.organisation, account_id=account.id, ip=ip)


@transaction.atomic
def send_update_letter(account: Account, *, email: str, now: datetime, ip: str | None = None) -> str:
    """Ask the owner by post: a letter to the registry's address naming the address to be added, with the
    code that allows it (`registration.account_update`: lifetime, letters per period; length and tries
    of the sign-in code). Says what happened: "sent"; "pending", when a letter naming this same address
    can still be used (none sent: the member uses that one); "limited", when the account had its
    letters for the period (none sent, so that nobody makes the organisation post letter after letter).
    """
    from guichet.challenges import secrets
    from guichet.channels import outbox
    from guichet.security import ratelimit

    policy = account.organisation.policy
    rule, code_rule = policy.registration.account_update, policy.login.second_factor.code
    live = secrets.active(letter_scope(account), LETTER_CODE_PURPOSE)
    if live is not None and _same_address(live.data.get("email"), email) and now < live.expires_at \
            and live.attempts < live.max_attempts:
        record("registration.update_letter_pending", organisation=account.organisation, account_id=account.id,
               ip=ip)
        return "pending"
    if not ratelimit.hit(f"registration:update_letter:{account.pk}", limit=rule.max_letters,
                         window=rule.letter_code_lifetime, now=now).allowed:
        record("registration.update_letter_limited", organisation=account.organisation, account_id=account.id,
               ip=ip)
        return "limited"
    # A letter is scarce (a few a period): its code starts with all its tries, whatever the one it replaces.
    issued = secrets.issue_code(organisation=account.organisation, purpose=LETTER_CODE_PURPOSE,
                                scope=letter_scope(account), length=code_rule.length,
                                lifetime=rule.letter_code_lifetime, max_attempts=code_rule.max_attempts, now=now,
                                account=account, channel="postal", data={"email": email}, carry_failures=False)
    outbox.send_letter(account.organisation, address=postal_address(account), template="account_update_letter",
                       context={"code": issued.secret, "email": email, "asked_at": timezone.localtime(now),
                                "days": rule.letter_code_lifetime.days},
                       language=owner_language(account), account_id=account.pk)
    record("registration.update_code_sent", organisation=account.organisation, account_id=account.id, ip=ip,
           channel="postal")
    return "sent"


def check_letter_code(account: Account, *, email: str, code: str, now: datetime) -> Result:
    """The code of the owner's latest letter, only for the address that letter names."""
    from guichet.challenges import secrets

    live = secrets.active(letter_scope(account), LETTER_CODE_PURPOSE)
    if live is None or not _same_address(live.data.get("email"), email):
        return secrets.Result(secrets.Check.MISSING)
    return secrets.check_code(scope=letter_scope(account), purpose=LETTER_CODE_PURPOSE, code=code, now=now)


def send_update_code(account: Account, *, code: str, email: str, minutes: int, ip: str | None = None) -> None:
    """Ask the owner by text message: the code that allows giving the account `email`, to the mobile on
    record. The message names the address, so an owner who did not ask knows what not to allow."""
    from guichet.channels import outbox

    outbox.send_sms(account.organisation, to=account.mobile, template="account_update_code",
                    context={"code": code, "email": email, "minutes": minutes}, language=owner_language(account),
                    account_id=account.pk)
    record("registration.update_code_sent", organisation=account.organisation, account_id=account.id, ip=ip,
           channel="sms")


def record_update_code_refused(account: Account, *, channel: str, check: str, ip: str | None = None) -> None:
    """A wrong, expired or spent code on the update page: agents see who tried, and how."""
    record("registration.update_code_refused", organisation=account.organisation, account_id=account.id, ip=ip,
           channel=channel, check=check)


@transaction.atomic
def give_email_and_password(account: Account, *, email: str, password: str, now: datetime,
                            ip: str | None = None) -> bool:
    """The link sent to `email` was used and the owner's code was right: that address is proven and becomes
    the account's, and `password` replaces the old one (remembered devices are revoked, other sessions
    end). The owner is told on the channels on record, in the same transaction.

    Only for an active account that still has no email address: False, and nothing changes, when an
    agent or another link gave it one meanwhile, or when the account is no longer active.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    identifier = locked.identifier
    if account.organisation.policy.login.identifier.kind == "email":
        identifier = email.strip().lower()   # there, the email is also what the member signs in with
    taken = Account.objects.filter(organisation=locked.organisation_id, identifier=identifier).exclude(pk=locked.pk)
    if locked.state != Account.State.ACTIVE or locked.email or taken.exists():
        record("registration.update_refused", organisation=account.organisation, account_id=account.id, ip=ip,
               state=locked.state, has_email=bool(locked.email))
        return False
    changed = ["email"] + (["identifier"] if identifier != locked.identifier else [])
    locked.email, locked.email_verified_at, locked.identifier = email, now, identifier
    locked.save(update_fields=["email", "email_verified_at", "identifier"])
    record("contact.email_added", organisation=account.organisation, account_id=account.id, ip=ip,
           changed=changed)   # names only: the address is personal data and stays out of the audit trail
    account.refresh_from_db()
    set_password(account, password, now=now, ip=ip, reason="account_update")
    tell_owner_of_update(account, email=email, now=now, ip=ip)
    return True


def tell_owner_of_update(account: Account, *, email: str, now: datetime, ip: str | None = None) -> list[str]:
    """What changed and when, by text message to the mobile and by letter to the registry's address (each
    that exists), with the organisation's contacts: the new address alone may be the intruder's."""
    from guichet.channels import outbox

    context = {"email": email, "when": timezone.localtime(now)}
    language, told = owner_language(account), []
    if _usable_mobile(account):
        outbox.send_sms(account.organisation, to=account.mobile, template="account_updated", context=context,
                        language=language, account_id=account.pk)
        told.append("sms")
    address = postal_address(account)
    if address:
        outbox.send_letter(account.organisation, address=address, template="account_updated", context=context,
                           language=language, account_id=account.pk)
        told.append("postal")
    record("registration.update_owner_told", organisation=account.organisation, account_id=account.id, ip=ip,
           channels=told)
    return told
