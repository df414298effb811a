"""Every change to an account goes through here, and each one is audited.

Functions take the actor and the client address explicitly (no request object, no thread-locals).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from guichet.audit.record import record
from guichet.identities.models import Account, Factor, Passkey
from guichet.security import devices


@transaction.atomic
def create_account(organisation: Any, *, identifier: str, member: Any = None, email: str = "", mobile: str = "",
                   state: str = Account.State.PENDING, actor: str = "member", ip: str | None = None) -> Account:
    account = Account.objects.create(organisation=organisation, identifier=identifier, member=member,
                                     email=email, mobile=mobile, state=state)
    account.set_unusable_password()
    account.save(update_fields=["password"])
    record("account.created", organisation=organisation, account_id=account.id, actor=actor, ip=ip)
    return account


@transaction.atomic
def set_password(account: Account, password: str, *, now: datetime, actor: str = "member", ip: str | None = None,
                 temporary: bool = False, expires_at: datetime | None = None, reason: str = "") -> None:
    """A new password: remembered devices are revoked, and Django's session hash check ends every
    other session of the account at its next request."""
    account.password = make_password(password)
    account.must_change_password = temporary
    account.password_expires_at = expires_at if temporary else None
    account.password_changed_at = now
    account.save(update_fields=["password", "must_change_password", "password_expires_at", "password_changed_at"])
    revoked = devices.revoke_all(account, now)
    record("password.temporary_set" if temporary else "password.changed", organisation=account.organisation,
           account_id=account.id, actor=actor, ip=ip, devices_revoked=revoked, reason=reason)


@transaction.atomic
def activate(account: Account, *, now: datetime, actor: str = "member", ip: str | None = None,
             email_verified: bool = False) -> None:
    account.state = Account.State.ACTIVE
    fields = ["state"]
    if email_verified:
        account.email_verified_at = now
        fields.append("email_verified_at")
    account.save(update_fields=fields)
    record("account.activated", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip)


def record_sign_in(account: Account, *, now: datetime, ip: str | None, method: str) -> None:
    account.last_login = now
    account.save(update_fields=["last_login"])
    record("login.succeeded", organisation=account.organisation, account_id=account.id, ip=ip, method=method)


def record_sign_in_failure(organisation: Any, *, account: Account | None, ip: str | None, reason: str,
                           locked_until: datetime | None = None) -> None:
    record("login.failed", organisation=organisation, account_id=account.id if account else None, ip=ip,
           reason=reason, locked_until=locked_until.isoformat() if locked_until else None)


@transaction.atomic
def enrol_factor(account: Account, kind: str, *, now: datetime, secret: str = "", ip: str | None = None) -> Factor:
    factor, _ = Factor.objects.update_or_create(account=account, kind=kind,
                                                defaults={"secret": secret, "created_at": now})
    record("factor.enrolled", organisation=account.organisation, account_id=account.id, ip=ip, factor=kind)
    return factor


@transaction.atomic
def enrol_passkey(account: Account, new: Any, *, now: datetime, ip: str | None = None) -> Passkey:
    """Store a verified passkey (`identities.passkeys.NewPasskey`) and record passkeys as a factor."""
    key = Passkey.objects.create(account=account, credential_id=new.credential_id, public_key=new.public_key,
                                 sign_count=new.sign_count, transports=list(new.transports), created_at=now)
    Factor.objects.update_or_create(account=account, kind=Factor.Kind.PASSKEY, defaults={"created_at": now})
    record("factor.enrolled", organisation=account.organisation, account_id=account.id, ip=ip,
           factor=Factor.Kind.PASSKEY.value, passkey=key.pk)
    return key


def remember_device(account: Account, *, days: int, label: str, now: datetime, ip: str | None) -> str:
    token = devices.remember(account, days=days, label=label, now=now)
    record("device.remembered", organisation=account.organisation, account_id=account.id, ip=ip, days=days)
    return token


@transaction.atomic
def revoke_devices(account: Account, *, now: datetime, actor: str = "member", ip: str | None = None) -> int:
    count = devices.revoke_all(account, now)
    record("device.revoked", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           count=count)
    return count


def notify_locked(account: Account, *, until: datetime | None, language: str) -> None:
    """The member learns of the lock by email (the sign-in page never says an account is locked)."""
    from django.utils import formats, timezone

    from guichet.channels import outbox

    local = timezone.localtime(until) if until else None
    outbox.send_email(account.organisation, to=account.email, template="account_locked",
                      context={"until": formats.date_format(local, "DATETIME_FORMAT") if local else ""},
                      language=language, account_id=account.pk)
    record("account.locked", organisation=account.organisation, account_id=account.id, actor="system",
           until=until.isoformat() if until else None)


@transaction.atomic
def set_mobile(account: Account, mobile: str, *, actor: str = "member", ip: str | None = None) -> None:
    account.mobile = mobile
    account.save(update_fields=["mobile"])
    record("contact.mobile_changed", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip)


def sign_out(account: Account, *, ip: str | None, reason: str = "member") -> None:
    record("logout", organisation=account.organisation, account_id=account.id, ip=ip, reason=reason)


# Agent actions (back-office). Each takes the agent's reason and keeps it in the audit event. -------

@transaction.atomic
def end_sessions(account: Account, *, actor: str, ip: str | None, reason: str = "") -> None:
    """Every open session of the account ends at its next request (see Account._get_session_auth_hash)."""
    from django.db.models import F

    Account.objects.filter(pk=account.pk).update(session_version=F("session_version") + 1)
    account.refresh_from_db(fields=["session_version"])
    record("sessions.ended", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason)


@transaction.atomic
def unlock(account: Account, *, actor: str, ip: str | None, reason: str = "") -> None:
    """Clears the sign-in lock and its failure counter: the member starts afresh."""
    from guichet.security import lockout

    lockout.unlock(account.organisation, lockout.identity_key("account", str(account.pk)))
    record("account.unlocked", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason)


@transaction.atomic
def disable(account: Account, *, actor: str, ip: str | None, reason: str = "") -> None:
    """No sign-in until enabled again; open sessions end at once (the backend refuses inactive accounts)."""
    previous = account.state
    account.state = Account.State.DISABLED
    account.save(update_fields=["state"])
    end_sessions(account, actor=actor, ip=ip, reason=reason)
    record("account.disabled", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason, previous_state=previous)


@transaction.atomic
def enable(account: Account, *, actor: str, ip: str | None, reason: str = "") -> None:
    """Back to the state the account had when it was disabled (kept in the audit event)."""
    from guichet.audit.models import Event

    disabled = Event.objects.filter(kind="account.disabled", account_id=account.id).order_by("-at", "-id").first()
    previous = (disabled.data.get("previous_state") if disabled else None) or Account.State.ACTIVE
    account.state = Account.State.PENDING if previous == Account.State.PENDING else Account.State.ACTIVE
    account.save(update_fields=["state"])
    record("account.enabled", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason, state=account.state)


# Recovery, first sign-in and password change -----------------------------------------------------

# No 0/O, 1/l/I: temporary passwords are typed from letters and text messages, often by older members.
_TEMPORARY_ALPHABETS = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789")


def new_temporary_password(length: int) -> str:
    """Random, with an upper-case letter, a lower-case letter and a digit, and no look-alike characters."""
    import secrets

    everything = "".join(_TEMPORARY_ALPHABETS)
    chars = [secrets.choice(alphabet) for alphabet in _TEMPORARY_ALPHABETS]
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def set_temporary_password(account: Account, *, now: datetime, actor: str = "member", ip: str | None = None,
                           reason: str = "recovery") -> str:
    """A new random temporary password (length and lifetime from the policy's recovery.temporary_password),
    to change at next sign-in. Returns it so the caller can send it; it is never stored in clear."""
    rule = account.organisation.policy.recovery.temporary_password
    password = new_temporary_password(rule.length)
    set_password(account, password, now=now, actor=actor, ip=ip, temporary=True, expires_at=now + rule.lifetime,
                 reason=reason)
    return password


def notify_password_changed(account: Account, *, now: datetime, language: str) -> None:
    """Tells the member by email, so a change they did not make does not go unnoticed."""
    from django.utils import formats, timezone

    from guichet.channels import outbox

    if not account.email:
        return
    outbox.send_email(account.organisation, to=account.email, template="password_changed",
                      context={"when": formats.date_format(timezone.localtime(now), "DATETIME_FORMAT")},
                      language=language, account_id=account.pk)


@transaction.atomic
def confirm_contacts(account: Account, *, email: str, now: datetime, mobile: str | None = None,
                     landline: str | None = None, fax: str | None = None, actor: str = "member",
                     ip: str | None = None) -> None:
    """The member confirmed (and perhaps changed) their contact details; the email was proven by a code.

    `None` leaves a number as it is; "" erases it. Every changed detail is named in the audit event
    (names only: the values are personal data and stay out of the audit trail)."""
    changed = [name for name, value in (("email", email), ("mobile", mobile), ("landline", landline), ("fax", fax))
               if value is not None and value != getattr(account, name)]
    account.email = email
    for name, value in (("mobile", mobile), ("landline", landline), ("fax", fax)):
        if value is not None:
            setattr(account, name, value)
    if account.organisation.policy.login.identifier.kind == "email":
        account.identifier = email.strip().lower()   # there, the email is also what the member signs in with
    account.email_verified_at = now
    account.contact_confirmed_at = now
    account.save(update_fields=["email", "mobile", "landline", "fax", "identifier", "email_verified_at",
                                "contact_confirmed_at"])
    record("contact.confirmed", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           changed=changed)


def record_recovery(organisation: Any, *, account: Account | None, ip: str | None, event: str,
                    **details: Any) -> None:
    """A step of a recovery: asked, code sent, question answered, letter sent, password reset."""
    record(f"recovery.{event}", organisation=organisation, account_id=account.id if account else None, ip=ip,
           **details)


# The purpose of activation links: the registration journey peeks and uses links of this purpose.
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
                    password_hash: str = "", ip: str | None = None) -> Account:
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
        account = create_account(organisation, identifier=identifier, member=member, email=email, ip=ip)
    else:
        account.identifier, account.email = identifier, email
        account.save(update_fields=["identifier", "email"])
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
def complete_registration(account: Account, *, now: datetime, password: str = "", ip: str | None = None) -> None:
    """The link of the registration email was used: the email is proven; set the password if the link asked
    for one, and the account becomes active."""
    if password:
        set_password(account, password, now=now, ip=ip, reason="registration")
    activate(account, now=now, ip=ip, email_verified=True)


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
        if not member.address.strip():
            raise outbox.RecipientError(f"member {member.member_number} has no postal address")
        name = " ".join(part for part in (member.first_name, member.last_name) if part)
        outbox.send_letter(organisation, address=[name, *member.address.splitlines()],
                           template="temporary_password_letter", context=context, language="fr",
                           account_id=account.pk)
    elif channel == "email":
        outbox.send_email(organisation, to=member.email, template="temporary_password", context=context,
                          language="fr", account_id=account.pk)
    else:
        outbox.send_sms(organisation, to=member.mobile, template="temporary_password", context=context,
                        language="fr", account_id=account.pk)
    record("account.provisioned", organisation=organisation, account_id=account.id, actor=actor, ip=ip,
           channel=channel)
    return account


def provision_members(organisation: Any, *, now: datetime, limit: int | None = None,
                      actor: str = "system") -> tuple[int, list[tuple[str, str]]]:
    """Provision every registry member of `organisation` who has no account yet (running it again does
    nothing more). Returns how many accounts were created, and the (member number, reason) skipped."""
    from guichet.channels.outbox import RecipientError
    from guichet.registry.models import MemberRecord

    members = MemberRecord.objects.filter(organisation=organisation, account__isnull=True).order_by("pk")
    created, skipped = 0, []
    for member in members[:limit] if limit is not None else members.iterator():
        try:
            provision_account(organisation, member, now=now, actor=actor)
            created += 1
        except (RecipientError, IntegrityError) as error:   # each member alone: one failure stops nothing
            skipped.append((member.member_number, str(error) or type(error).__name__))
    return created, skipped
