"""Credentials: passwords (own and temporary), second factors, passkeys, remembered devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from guichet.audit.record import record
from guichet.identities.models import Account, Factor, Passkey
from guichet.identities.signals import sessions_ended
from guichet.security import devices


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
    sessions_ended.send(sender=Account, account=account)
    record("password.temporary_set" if temporary else "password.changed", organisation=account.organisation,
           account_id=account.id, actor=actor, ip=ip, devices_revoked=revoked, reason=reason)


@transaction.atomic
def enrol_factor(account: Account, kind: str, *, now: datetime, secret: str = "", mobile: str = "",
                 last_used_step: int | None = None, ip: str | None = None) -> Factor:
    """A new (or replaced) second factor. Like every credential change, it forgets the remembered devices:
    a device remembered before stops skipping the second factor, so the new one is asked there too.

    `mobile` is an SMS factor's own number; the account's mobile (which recovery uses) is left alone.
    `last_used_step` is the TOTP time step of the code that confirmed the enrolment, so that the same code
    cannot sign in afterwards (identities.totp.verify refuses steps up to it)."""
    factor, _ = Factor.objects.update_or_create(
        account=account, kind=kind,
        defaults={"secret": secret, "mobile": mobile, "last_used_step": last_used_step, "created_at": now})
    revoked = devices.revoke_all(account, now)
    record("factor.enrolled", organisation=account.organisation, account_id=account.id, ip=ip, factor=kind,
           devices_revoked=revoked)
    return factor


@transaction.atomic
def enrol_passkey(account: Account, new: Any, *, now: datetime, ip: str | None = None) -> Passkey:
    """Store a verified passkey (`identities.passkeys.NewPasskey`) and record passkeys as a factor."""
    key = Passkey.objects.create(account=account, credential_id=new.credential_id, public_key=new.public_key,
                                 sign_count=new.sign_count, transports=list(new.transports), created_at=now)
    Factor.objects.update_or_create(account=account, kind=Factor.Kind.PASSKEY, defaults={"created_at": now})
    revoked = devices.revoke_all(account, now)   # a credential change: see enrol_factor
    record("factor.enrolled", organisation=account.organisation, account_id=account.id, ip=ip,
           factor=Factor.Kind.PASSKEY.value, passkey=key.pk, devices_revoked=revoked)
    return key


def notify_factor_enrolled(account: Account, kind: str, *, now: datetime, ip: str | None = None,
                           mobile: str = "", factor_mobile: str = "") -> list[str]:
    """Tells the member that a way to verify their sign-ins was added, so that a stolen password turned into
    a second factor of the thief's does not go unnoticed: by email when the account has an address, and by
    text message to the account's mobile and to `factor_mobile` (the number of the SMS factor the account
    had before), unless it is `mobile`, the number just enrolled (whoever enrolled it received a code
    there). Audited with the channels used (never the addresses); returns them.

    In the organisation's language (LANGUAGE_CODE: French), never the account's: Account.language is the
    language of the last sign-in, and whoever enrols has just signed in, perhaps a thief with the password
    browsing in another language (docs/decisions.md)."""
    from django.conf import settings

    from guichet.channels import outbox
    from guichet.identities.lookup import mask_phone

    language = settings.LANGUAGE_CODE
    context = {"when": now, "method": kind, "mobile": mask_phone(mobile) if mobile else ""}
    told: list[str] = []
    if account.email:
        try:
            outbox.send_email(account.organisation, to=account.email, template="factor_enrolled", context=context,
                              language=language, account_id=account.pk)
            told.append("email")
        except outbox.RecipientError:   # an address that cannot receive must not undo the enrolment
            pass
    numbers = {_e164(number) for number in (account.mobile, factor_mobile)} - {"", _e164(mobile)}
    for number in sorted(numbers):
        outbox.send_sms(account.organisation, to=number, template="factor_enrolled", context=context,
                        language=language, account_id=account.pk)
        told.append("sms")
    record("factor.enrolment_notified", organisation=account.organisation, account_id=account.id, actor="system",
           ip=ip, factor=kind, channels=told)
    return told


def _e164(number: str) -> str:
    """The number as outbox sends to it, or "" when it cannot receive a text message."""
    from guichet.channels import outbox

    try:
        return outbox.phone_number(number) if number else ""
    except outbox.RecipientError:
        return ""


@transaction.atomic
def remove_factors(account: Account, *, now: datetime, actor: str, ip: str | None = None,
                   reason: str = "") -> dict[str, int]:
    """An agent removes every second factor and passkey of the account (a thief's number or app, or a lost
    phone): the member enrols again at their next sign-in, or gets codes by email if the organisation
    requires a second factor. Like every credential change, remembered devices are forgotten; the sessions
    end too (whoever enrolled the factor may be signed in), and the member is told. Returns the counts."""
    from guichet.identities.actions.accounts import end_sessions

    kinds = sorted(Factor.objects.filter(account=account).values_list("kind", flat=True))
    passkeys, _ = Passkey.objects.filter(account=account).delete()
    factors, _ = Factor.objects.filter(account=account).delete()
    revoked = devices.revoke_all(account, now)
    record("factor.removed", organisation=account.organisation, account_id=account.id, actor=actor, ip=ip,
           reason=reason, factors=kinds, factors_removed=factors, passkeys_removed=passkeys,
           devices_revoked=revoked)
    end_sessions(account, actor=actor, ip=ip, reason=reason)
    _notify_factors_removed(account, now=now, ip=ip)
    return {"factors_removed": factors, "passkeys_removed": passkeys, "devices_revoked": revoked}


def _notify_factors_removed(account: Account, *, now: datetime, ip: str | None) -> list[str]:
    """By email, and by text message to the account's mobile (never to the removed SMS factor's number,
    which may be a thief's), in the member's language. Audited with the channels used."""
    from django.conf import settings

    from guichet.channels import outbox

    language = account.language or settings.LANGUAGE_CODE
    common: dict[str, Any] = {"template": "factors_removed", "context": {"when": now}, "language": language,
                              "account_id": account.pk}
    told: list[str] = []
    if account.email:
        try:
            outbox.send_email(account.organisation, to=account.email, **common)
            told.append("email")
        except outbox.RecipientError:
            pass
    if number := _e164(account.mobile):
        outbox.send_sms(account.organisation, to=number, **common)
        told.append("sms")
    record("factor.removal_notified", organisation=account.organisation, account_id=account.id, actor="system",
           ip=ip, channels=told)
    return told


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
