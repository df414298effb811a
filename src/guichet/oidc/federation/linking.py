"""From an identity an upstream provider vouches for to a Guichet account: the one already linked,
the account of the matching registry record (linked now), or a new account for a record without one.

Every outcome is audited; a failure changes nothing (one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from guichet.audit.record import record
from guichet.identities import actions
from guichet.identities.lookup import normalise_identifier
from guichet.identities.models import Account
from guichet.oidc.federation.matching import find_record
from guichet.oidc.federation.upstream import Identity
from guichet.oidc.models import FederatedIdentity
from guichet.organisations.models import Organisation
from guichet.policy.model import Upstream
from guichet.registry.models import MemberRecord


@dataclass(frozen=True)
class Recognised:
    account: Account | None
    # "known", "linked", "created"; or why not: "incomplete", "none", "ambiguous", "disabled",
    # "no_email", "identifier_taken", "linked_elsewhere"
    reason: str


class _Refusal(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def recognise(organisation: Organisation, provider: str, upstream: Upstream, identity: Identity, *,
              now: datetime, ip: str | None) -> Recognised:
    try:
        return _recognise(organisation, provider, upstream, identity, now=now, ip=ip)
    except _Refusal as refusal:   # raised inside the transaction: nothing it wrote is kept
        record("federation.not_recognised", organisation=organisation, ip=ip, provider=provider,
               reason=refusal.reason)
        return Recognised(None, refusal.reason)


@transaction.atomic
def _recognise(organisation: Organisation, provider: str, upstream: Upstream, identity: Identity, *,
               now: datetime, ip: str | None) -> Recognised:
    known = FederatedIdentity.objects.select_related("account", "account__member").filter(
        organisation=organisation, issuer=upstream.issuer, subject=identity.subject).first()
    if known is not None:
        if known.account.state == Account.State.DISABLED:
            raise _Refusal("disabled")
        member = known.account.member
        if upstream.categories and (member is None or member.category not in upstream.categories):
            raise _Refusal("category")   # linked before the rule, or the registry's category changed since
        known.last_used_at = now
        known.save(update_fields=["last_used_at"])
        return Recognised(known.account, "known")
    match = find_record(organisation, upstream, identity.claims)
    if match.record is None:
        raise _Refusal(match.reason)
    account = Account.objects.filter(member=match.record).first()
    reason = "linked"
    if account is None:
        account, reason = _open_account(organisation, match.record, ip), "created"
    elif account.state == Account.State.DISABLED:
        raise _Refusal("disabled")
    elif account.state == Account.State.PENDING:
        # The provider proved who the member is, which is what the pending step was waiting for.
        actions.activate(account, now=now, actor="federation", ip=ip)
    if FederatedIdentity.objects.filter(account=account, provider=provider).exists():
        # The account is linked to another person at this provider: never switch silently.
        raise _Refusal("linked_elsewhere")
    FederatedIdentity.objects.create(organisation=organisation, account=account, provider=provider,
                                     issuer=upstream.issuer, subject=identity.subject, last_used_at=now)
    record("federation.linked", organisation=organisation, account_id=account.pk, ip=ip, provider=provider,
           member_number=match.record.member_number)
    return Recognised(account, reason)


def _open_account(organisation: Organisation, member: MemberRecord, ip: str | None) -> Account:
    """An active account without a password: the member signs in through the provider, or sets a
    password later through the recovery journey."""
    kind = organisation.policy.login.identifier.kind
    value = member.email if kind == "email" else member.member_number
    if not value:
        raise _Refusal("no_email")
    identifier = normalise_identifier(kind, value)
    if Account.objects.filter(organisation=organisation, identifier=identifier).exists():
        raise _Refusal("identifier_taken")
    return actions.create_account(organisation, identifier=identifier, member=member, email=member.email,
                                  mobile=member.mobile, state=Account.State.ACTIVE, actor="federation", ip=ip)
