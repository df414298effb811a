"""Accounts: creation, activation, sign-in records, sessions, locks, disabling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from guichet.audit.record import record
from guichet.identities.models import Account
from guichet.identities.signals import sessions_ended


@transaction.atomic
def create_account(organisation: Any, *, identifier: str, member: Any = None, email: str = "", mobile: str = "",
                   state: str = Account.State.PENDING, actor: str = "member", ip: str | None = None,
                   language: str = "") -> Account:
    account = Account.objects.create(organisation=organisation, identifier=identifier, member=member,
                                     email=email, mobile=mobile, state=state, language=language)
    account.set_unusable_password()
    account.save(update_fields=["password"])
    record("account.created", organisation=organisation, account_id=account.id, actor=actor, ip=ip)
    return account


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


def record_sign_in(account: Account, *, now: datetime, ip: str | None, method: str, language: str = "") -> None:
    """The sign-in, audited; with the language of the pages the member used, kept for what agents send."""
    account.last_login = now
    fields = ["last_login"]
    if language and language != account.language:
        account.language = language
        fields.append("language")
    account.save(update_fields=fields)
    record("login.succeeded", organisation=account.organisation, account_id=account.id, ip=ip, method=method)


def record_sign_in_failure(organisation: Any, *, account: Account | None, ip: str | None, reason: str,
                           locked_until: datetime | None = None) -> None:
    record("login.failed", organisation=organisation, account_id=account.id if account else None, ip=ip,
           reason=reason, locked_until=locked_until.isoformat() if locked_until else None)


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


def sign_out(account: Account, *, ip: str | None, reason: str = "member") -> None:
    record("logout", organisation=account.organisation, account_id=account.id, ip=ip, reason=reason)


# Agent actions (back-office). Each takes the agent's reason and keeps it in the audit event. -------

@transaction.atomic
def end_sessions(account: Account, *, actor: str, ip: str | None, reason: str = "") -> None:
    """Every open session of the account ends at its next request (see Account._get_session_auth_hash)."""
    from django.db.models import F

    Account.objects.filter(pk=account.pk).update(session_version=F("session_version") + 1)
    account.refresh_from_db(fields=["session_version"])
    sessions_ended.send(sender=Account, account=account)
    record("sessions.ended", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason)


@transaction.atomic
def unlock(account: Account, *, actor: str, ip: str | None, reason: str = "") -> None:
    """Clears the sign-in lock and its failure counter: the member starts afresh."""
    from guichet.security import lockout

    lockout.clear_account(account.organisation, account)
    record("account.unlocked", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason)


@transaction.atomic
def disable(account: Account, *, actor: str, ip: str | None, reason: str = "", now: datetime | None = None) -> None:
    """No sign-in until enabled again; open sessions end at once (the backend refuses inactive accounts), and
    the links and codes already sent die: enabling the account again must not revive a recovery link."""
    from django.utils import timezone

    from guichet.challenges import secrets

    previous = account.state
    account.state = Account.State.DISABLED
    account.save(update_fields=["state"])
    cancelled = secrets.cancel_for_account(account, now=now or timezone.now())
    end_sessions(account, actor=actor, ip=ip, reason=reason)
    record("account.disabled", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason, previous_state=previous, challenges_cancelled=cancelled)


@transaction.atomic
def enable(account: Account, *, actor: str, ip: str | None, reason: str = "") -> bool:
    """Back to the state the account had when it was disabled (kept in the audit event).

    Enabling revives no secret sent before (disable() killed the links and codes): a temporary password not yet
    replaced, or any password set since the account was disabled, is cleared too, so a password that went to
    the mailbox or phone the account was disabled for never becomes live. The member then needs a fresh reset
    (recovery, or an agent's). Returns whether a password was cleared (audited as `password_cleared`)."""
    from guichet.audit.models import Event

    disabled = Event.objects.filter(kind="account.disabled", account_id=account.id).order_by("-at", "-id").first()
    previous = (disabled.data.get("previous_state") if disabled else None) or Account.State.ACTIVE
    account.state = Account.State.PENDING if previous == Account.State.PENDING else Account.State.ACTIVE
    fields = ["state"]
    set_while_disabled = bool(disabled and account.password_changed_at and account.password_changed_at >= disabled.at)
    cleared = account.has_usable_password() and (account.must_change_password or set_while_disabled)
    if cleared:
        account.set_unusable_password()
        account.must_change_password = False
        account.password_expires_at = None
        fields += ["password", "must_change_password", "password_expires_at"]
    account.save(update_fields=fields)
    record("account.enabled", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason, state=account.state, password_cleared=cleared)
    return cleared


# Recovery, first sign-in and password change -----------------------------------------------------

# No 0/O, 1/l/I: temporary passwords are typed from letters and text messages, often by older members.


def record_recovery(organisation: Any, *, account: Account | None, ip: str | None, event: str,
                    **details: Any) -> None:
    """A step of a recovery: asked, code sent, question answered, letter sent, password reset."""
    record(f"recovery.{event}", organisation=organisation, account_id=account.id if account else None, ip=ip,
           **details)


# The purpose of activation links: the registration journey peeks and uses links of this purpose.
