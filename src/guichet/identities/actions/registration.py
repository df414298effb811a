"""Registration and provisioning: accounts created from the member registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from guichet.audit.record import record
from guichet.identities.actions.accounts import activate, create_account
from guichet.identities.actions.credentials import enrol_factor, set_password, set_temporary_password
from guichet.identities.models import Account

ACTIVATION_PURPOSE = "registration"


@transaction.atomic
def send_activation_link(account: Account, *, link_url: Any, now: datetime, actor: str, ip: str | None,
                         language: str, explanation: Any, title: Any, reason: str = "") -> None:
    """A new activation link by email for a pending account (earlier links stop working).

    `link_url(token)` gives the full address, and `explanation`/`title` the email's wording (lazy
    translations): the caller knows the journey and its words; this layer does not.
    """
    from guichet.challenges import secrets
    from guichet.channels import outbox

    rule = account.organisation.policy.registration.link
    issued = secrets.issue_link(organisation=account.organisation, purpose=ACTIVATION_PURPOSE,
                                lifetime=rule.lifetime, now=now, account=account, channel="email")
    hours = max(1, int(rule.lifetime.total_seconds() // 3600))
    outbox.send_email(account.organisation, to=account.email, template="link", language=language,
                      account_id=account.pk,
                      context={"url": link_url(issued.secret), "hours": hours, "purpose": explanation,
                               "title": title})
    record("activation.link_sent", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason)


# Registration ---------------------------------------------------------------------------------------

def record_registration_failure(organisation: Any, *, ip: str | None, reason: str, member_id: Any = None) -> None:
    """A registration attempt that proved nothing: kept for the back-office, never shown to the member."""
    record("registration.failed", organisation=organisation, ip=ip, reason=reason, member=member_id)


@transaction.atomic
def register_member(organisation: Any, member: Any, *, identifier: str, email: str, now: datetime,
                    password_hash: str = "", ip: str | None = None, language: str = "") -> Account:
    """The member's pending account: created, or updated when an earlier registration was never finished
    (an expired link), so registering again never makes a second account.

    `password_hash` is a Django hash (the form chose the password); never a password in clear.
    """
    from django.contrib.auth.hashers import identify_hasher

    if password_hash:
        identify_hasher(password_hash)   # ValueError for anything that is not a hash
    account = Account.objects.select_for_update().filter(organisation=organisation, member=member).first()
    if account is not None and account.state != Account.State.PENDING:
        raise ValueError("this member already has an account; registering again must not change it")
    again = account is not None
    if account is None:
        account = create_account(organisation, identifier=identifier, member=member, email=email, ip=ip,
                                 language=language)
    else:
        account.identifier, account.email, account.language = identifier, email, language or account.language
        account.save(update_fields=["identifier", "email", "language"])
    if password_hash:
        account.password, account.password_changed_at = password_hash, now
        account.save(update_fields=["password", "password_changed_at"])
    record("account.registered", organisation=organisation, account_id=account.id, ip=ip, again=again,
           password_chosen=bool(password_hash))
    return account


@transaction.atomic
def accept_usage_policy(account: Account, *, version: str, now: datetime, ip: str | None = None) -> None:
    account.policy_version_accepted, account.policy_accepted_at = version, now
    account.save(update_fields=["policy_version_accepted", "policy_accepted_at"])
    record("policy.accepted", organisation=account.organisation, account_id=account.id, ip=ip, version=version)


@transaction.atomic
def complete_registration(account: Account, *, now: datetime, password: str = "", ip: str | None = None,
                          email_factor: bool = False) -> None:
    """The link of the registration email was used: the email is proven; set the password if the link asked
    for one, and the account becomes active. With `email_factor`, the address just proven becomes the
    member's second factor (codes by email), as if they had enrolled it."""
    if password:
        set_password(account, password, now=now, ip=ip, reason="registration")
    activate(account, now=now, ip=ip, email_verified=True)
    if email_factor:
        enrol_factor(account, "email", now=now, ip=ip)


def notify_already_registered(account: Account, *, language: str, sign_in_url: str, recovery_url: str,
                              ip: str | None = None) -> None:
    """Someone registered again for a member who has an account: the page says nothing (it would tell
    anyone who has a member's details that an account exists); the account's own address is told."""
    from guichet.channels import outbox

    if account.email:
        outbox.send_email(account.organisation, to=account.email, template="registration_already",
                          context={"sign_in_url": sign_in_url, "recovery_url": recovery_url},
                          language=language, account_id=account.pk)
    record("registration.already_registered", organisation=account.organisation, account_id=account.id, ip=ip,
           emailed=bool(account.email))


# Provisioned accounts (the organisation creates them; the first password goes by post) ----------------

@transaction.atomic
def provision_account(organisation: Any, member: Any, *, now: datetime, actor: str = "system",
                      ip: str | None = None) -> Account:
    """Create the member's account with a temporary password sent by the policy's channel (a letter
    for the farm preset). Raises outbox.RecipientError (nothing is created) when it cannot be sent."""
    from datetime import timedelta

    from django.conf import settings

    from guichet.channels import outbox
    from guichet.identities.lookup import normalise_identifier

    policy = organisation.policy
    rule, channel = policy.recovery.temporary_password, policy.registration.temporary_password_channel
    kind = policy.login.identifier.kind
    identifier = normalise_identifier(kind, member.email if kind == "email" else member.member_number)
    account = create_account(organisation, identifier=identifier, member=member, email=member.email,
                             mobile=member.mobile, state=Account.State.ACTIVE, actor=actor, ip=ip)
    password = set_temporary_password(account, now=now, actor=actor, ip=ip, reason="provisioned")
    context = {"identifier": member.member_number if kind != "email" else member.email, "password": password,
               "days": rule.lifetime // timedelta(days=1),
               "home_url": f"{settings.BASE_URL}/o/{organisation.slug}/"}
    if channel == "postal":
        name = " ".join(part for part in (member.first_name, member.last_name) if part)
        outbox.send_letter(organisation, address=outbox.postal_address(name, member.address),
                           template="temporary_password_letter", context=context, language=settings.LANGUAGE_CODE,
                           account_id=account.pk)
    elif channel == "email":
        outbox.send_email(organisation, to=member.email, template="temporary_password", context=context,
                          language=settings.LANGUAGE_CODE, account_id=account.pk)
    else:
        outbox.send_sms(organisation, to=member.mobile, template="temporary_password", context=context,
                        language=settings.LANGUAGE_CODE, account_id=account.pk)
    record("account.provisioned", organisation=organisation, account_id=account.id, actor=actor, ip=ip,
           channel=channel)
    return account


def provision_members(organisation: Any, *, now: datetime, limit: int | None = None,
                      actor: str = "system") -> tuple[int, list[tuple[str, Exception]]]:
    """Provision every registry member of `organisation` who has no account yet (running it again does
    nothing more), records no longer in the registry apart. Returns how many accounts were created, and
    the (member number, error) skipped: an outbox.RecipientError (its text translated) or an
    IntegrityError (the identifier is taken)."""
    from guichet.channels.outbox import RecipientError
    from guichet.registry.models import MemberRecord

    # Not the records a complete import retired: their member left, and their address may not be theirs.
    members = MemberRecord.objects.in_registry().filter(organisation=organisation, account__isnull=True) \
        .order_by("pk")
    created = 0
    skipped: list[tuple[str, Exception]] = []
    for member in members[:limit] if limit is not None else members.iterator():
        try:
            provision_account(organisation, member, now=now, actor=actor)
            created += 1
        except (RecipientError, IntegrityError) as error:   # each member alone: one failure stops nothing
            skipped.append((member.member_number, error))
    return created, skipped
