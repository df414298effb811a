"""What an agent can do for a member. Each action needs a reason, is refused outside the agent's
organisations, and is audited as `backoffice.<action>` with the agent as actor and the reason.

Agents trigger a password reset but never see nor choose the password: it goes from
identities.actions straight into the outbox, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guichet.audit.record import record
from guichet.backoffice import agents
from guichet.backoffice.models import Agent
from guichet.channels import outbox
from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys.paths import journey_path
from guichet.registry.models import MemberRecord

REASON_MAX = 500
CHANNELS = ("email", "sms", "letter")
# Removing the second factors is what someone who stole a password would ask for on the phone, once the member
# was told of the thief's new factor: like disabling, it is left to supervisors.
SUPERVISOR_ONLY = frozenset({"disable", "enable", "remove_factors"})
# Nothing that lets someone sign in is sent for a disabled account: it was disabled because something is wrong
# (a stolen mailbox, a fraud), and the channel on record may well be the thief's. Enabling it comes first.
NOT_WHEN_DISABLED = frozenset({"reset_password", "resend_activation"})
ACTIONS = ("unlock", "resend_activation", "reset_password", "revoke_devices", "end_sessions", "remove_factors",
           "disable", "enable")


class Refused(Exception):
    """The action was not done; `code` names the reason (see backoffice.notices)."""

    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code)
        self.code, self.field = code, field


def allowed(agent: Agent, account: Account, action: str) -> bool:
    if action not in ACTIONS or not agents.may_act_on(agent, account.organisation):
        return False
    return agent.is_supervisor or action not in SUPERVISOR_ONLY


def perform(agent: Agent, account: Account, action: str, *, reason: str, now: datetime, ip: str | None,
            channel: str = "") -> str:
    """Does the action and returns the notice code to show; raises Refused, having changed nothing."""
    reason = reason.strip()
    if not allowed(agent, account, action):
        raise Refused("backoffice.forbidden")
    if action in NOT_WHEN_DISABLED and account.state == Account.State.DISABLED:
        raise Refused("backoffice.account_disabled")
    if not reason:
        raise Refused("backoffice.reason_required", "reason")
    if len(reason) > REASON_MAX:
        raise Refused("backoffice.reason_too_long", "reason")
    with transaction.atomic():
        # Read again under the row's lock: an account disabled since the page was shown gets nothing either.
        state = Account.objects.select_for_update().filter(pk=account.pk).values_list("state", flat=True).first()
        if action in NOT_WHEN_DISABLED and state == Account.State.DISABLED:
            raise Refused("backoffice.account_disabled")
        details = _ACTIONS[action](agent, account, reason=reason, now=now, ip=ip, channel=channel)
        record(f"backoffice.{action}", organisation=account.organisation, account_id=account.pk,
               actor=agent.actor, ip=ip, reason=reason, **details)
    if details.get("temporary_password_cleared"):
        return "backoffice.done.enable_password_cleared"
    return f"backoffice.done.{action}"


def _unlock(agent: Agent, account: Account, *, reason: str, now: datetime, ip: str | None,
            channel: str) -> dict[str, str]:
    actions.unlock(account, actor=agent.actor, ip=ip, reason=reason)
    return {}


def _resend_activation(agent: Agent, account: Account, *, reason: str, now: datetime, ip: str | None,
                       channel: str) -> dict[str, str]:
    if account.state != Account.State.PENDING:
        raise Refused("backoffice.not_pending")
    if not account.email:
        raise Refused("backoffice.no_destination")
    base = settings.BASE_URL + journey_path(account.organisation.slug, "registration")
    actions.send_activation_link(
        account, link_url=lambda token: f"{base}?lien={token}", now=now, actor=agent.actor, ip=ip,
        language=account.language or settings.LANGUAGE_CODE, reason=reason,
        explanation=_("To activate your online account, open the link below."),
        title=_("Activate your online account"))
    return {"channel": "email"}


def _record(account: Account) -> MemberRecord | None:
    """The account's registry record, if it is still in the registry: a retired record's address and mobile
    number may no longer be the member's, so nothing is sent to them."""
    member = account.member
    return member if member is not None and member.in_registry else None


def postal_address(account: Account) -> list[str]:
    """The member's name then the registry's address: empty when the registry has no address (or no longer
    has the member)."""
    member = _record(account)
    if member is None or not member.address.strip():
        return []
    name = " ".join(part for part in (member.first_name, member.last_name.upper()) if part)
    return [name, *member.address.splitlines()] if name else member.address.splitlines()


def destinations(account: Account) -> dict[str, bool]:
    """Which channels can reach the member (for the reset form)."""
    member = _record(account)
    return {"email": bool(account.email), "sms": bool(account.mobile or (member and member.mobile)),
            "letter": bool(postal_address(account))}


class _Sending(TypedDict):
    """What the three outbox.send_* functions share."""

    template: str
    context: dict[str, Any]
    language: str
    account_id: uuid.UUID


def _reset_password(agent: Agent, account: Account, *, reason: str, now: datetime, ip: str | None,
                    channel: str) -> dict[str, str]:
    if channel not in CHANNELS:
        raise Refused("backoffice.channel_required", "channel")
    if not destinations(account)[channel]:
        raise Refused("backoffice.no_destination", "channel")
    password = actions.set_temporary_password(account, now=now, actor=agent.actor, ip=ip, reason=reason)
    context = {"password": password, "days": account.organisation.policy.recovery.temporary_password.lifetime.days}
    common: _Sending = {"template": "temporary_password", "context": context,
                        "language": account.language or settings.LANGUAGE_CODE, "account_id": account.pk}
    try:
        if channel == "email":
            outbox.send_email(account.organisation, to=account.email, **common)
        elif channel == "sms":
            member = _record(account)
            mobile = account.mobile or (member.mobile if member else "")
            outbox.send_sms(account.organisation, to=mobile, **common)
        else:
            outbox.send_letter(account.organisation, address=postal_address(account), **common)
    except outbox.RecipientError:
        raise Refused("backoffice.no_destination", "channel") from None
    return {"channel": channel}


def _revoke_devices(agent: Agent, account: Account, *, reason: str, now: datetime, ip: str | None,
                    channel: str) -> dict[str, str]:
    actions.revoke_devices(account, now=now, actor=agent.actor, ip=ip)
    return {}


def _end_sessions(agent: Agent, account: Account, *, reason: str, now: datetime, ip: str | None,
                  channel: str) -> dict[str, str]:
    actions.end_sessions(account, actor=agent.actor, ip=ip, reason=reason)
    return {}


def _remove_factors(agent: Agent, account: Account, *, reason: str, now: datetime, ip: str | None,
                    channel: str) -> dict[str, int]:
    if not (account.factors.exists() or account.passkeys.exists()):
        raise Refused("backoffice.no_factors")
    return actions.remove_factors(account, now=now, actor=agent.actor, ip=ip, reason=reason)


def _disable(agent: Agent, account: Account, *, reason: str, now: datetime, ip: str | None,
             channel: str) -> dict[str, str]:
    if account.state == Account.State.DISABLED:
        raise Refused("backoffice.already_disabled")
    actions.disable(account, actor=agent.actor, ip=ip, reason=reason, now=now)
    return {}


def _enable(agent: Agent, account: Account, *, reason: str, now: datetime, ip: str | None,
            channel: str) -> dict[str, bool]:
    if account.state != Account.State.DISABLED:
        raise Refused("backoffice.not_disabled")
    cleared = actions.enable(account, actor=agent.actor, ip=ip, reason=reason)
    return {"temporary_password_cleared": True} if cleared else {}


_ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "unlock": _unlock, "resend_activation": _resend_activation, "reset_password": _reset_password,
    "revoke_devices": _revoke_devices, "end_sessions": _end_sessions, "remove_factors": _remove_factors,
    "disable": _disable, "enable": _enable,
}
