"""Every change to an account goes through here, and each one is audited.

Functions take the actor and the client address explicitly (no request object, no thread-locals).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from guichet.audit.record import record
from guichet.identities.models import Account, Factor
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
