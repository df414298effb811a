"""What agents consult is audited, as what they do is: searches and member pages.

A member page shows registry data (birth date, address, contacts); a trace of who saw it, and when, is what
lets an organisation answer a member who asks who looked at their file, and spot an agent browsing files
without a call to answer.

A search records its kind (number, name or email) and the ids of what it found, never the text typed. The
audit trail is append-only and never erased, while the text is personal data (a name, an email address, a
member number), sometimes of somebody who is not even a member (a typo, a relative's name): kept there, it
would outlive the registry's own erasure of the record. The ids answer the question that matters ("which
members did this agent find?"); a run of searches that find nothing still shows, by its count.

What agents are refused is audited too (`backoffice.refused`): an agent probing beyond their rights shows in the
trail. An account outside the agent's organisations is recorded without its id, exactly as an unknown one.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from guichet.audit.record import record
from guichet.backoffice.models import Agent
from guichet.backoffice.search import Found
from guichet.identities.models import Account
from guichet.organisations.models import Organisation


def searched(agent: Agent, *, by: str, scope: QuerySet[Organisation], filtered: bool, found: Sequence[Found],
             ip: str | None) -> None:
    """`backoffice.searched`, with the organisation when the agent chose one (else the event has none)."""
    organisation = scope.first() if filtered else None
    record("backoffice.searched", organisation=organisation, actor=agent.actor, ip=ip, by=by,
           results=len(found), records=[f.record.pk for f in found if f.record is not None],
           accounts=[str(f.account.pk) for f in found if f.account is not None])


def member_viewed(agent: Agent, account: Account, *, ip: str | None) -> None:
    """`backoffice.member_viewed`: every rendering of a member's page (after an action too: it shows the data)."""
    record("backoffice.member_viewed", organisation=account.organisation, account_id=account.pk,
           actor=agent.actor, ip=ip, record=account.member_id)


def refused(agent: Agent, *, action: str, refusal: str, account: Account | None, ip: str | None) -> None:
    """`backoffice.refused`: `refusal` is supervisor_only, unknown_action or not_found. `account` only when it
    is within the agent's organisations: a not_found names no account, whether it exists elsewhere or not."""
    record("backoffice.refused", organisation=account.organisation if account else None,
           account_id=account.pk if account else None, actor=agent.actor, ip=ip, action=action[:50],
           refusal=refusal)
