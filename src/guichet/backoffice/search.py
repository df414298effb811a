"""Finding members for an agent: by member number, name or email, in the agent's organisations only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from guichet.identities.lookup import normalise_identifier
from guichet.identities.models import Account
from guichet.organisations.models import Organisation
from guichet.registry.matching import email_key, name_key, normalise_member_number
from guichet.registry.models import MemberRecord

LIMIT = 50
BY = ("number", "name", "email")


@dataclass(frozen=True)
class Found:
    organisation: Organisation
    record: MemberRecord | None
    account: Account | None

    @property
    def account_id(self) -> uuid.UUID | None:
        return self.account.pk if self.account else None


def _name_filter(typed: str) -> Q:
    """The whole text as a last name, or any split of its words into first and last name, either order."""
    words = typed.split()
    condition = Q(last_name_key=name_key(typed))
    for cut in range(1, len(words)):
        first, last = name_key(" ".join(words[:cut])), name_key(" ".join(words[cut:]))
        condition |= Q(first_name_key=first, last_name_key=last) | Q(first_name_key=last, last_name_key=first)
    return condition


def _records(scope: QuerySet[Organisation], by: str, typed: str) -> QuerySet[MemberRecord]:
    records = MemberRecord.objects.filter(organisation__in=scope)
    if by == "number":
        return records.filter(member_number=normalise_member_number(typed))
    if by == "email":
        # The account's email may have changed since the registry was imported: both are searched.
        return records.filter(Q(email_key=email_key(typed)) | Q(account__email__iexact=typed.strip()))
    return records.filter(_name_filter(typed))


def _accounts_without_record(scope: QuerySet[Organisation], by: str, typed: str) -> QuerySet[Account]:
    """Accounts not linked to a registry record can only be found by what the account itself holds."""
    accounts = Account.objects.filter(organisation__in=scope, member=None)
    if by == "email":
        return accounts.filter(Q(email__iexact=typed.strip()) | Q(identifier=normalise_identifier("email", typed)))
    if by == "number":
        return accounts.filter(identifier=normalise_identifier("member_number", typed))
    return accounts.none()


def members(scope: QuerySet[Organisation], by: str, typed: str) -> list[Found]:
    """At most LIMIT results, registry records first (with their account, if any)."""
    if by not in BY or not typed.strip():
        return []
    found = [Found(r.organisation, r, getattr(r, "account", None)) for r in
             _records(scope, by, typed).select_related("organisation", "account")
             .order_by("last_name_key", "first_name_key", "member_number")[:LIMIT]]
    if len(found) < LIMIT:
        found += [Found(a.organisation, None, a) for a in
                  _accounts_without_record(scope, by, typed).select_related("organisation")[:LIMIT - len(found)]]
    return found
