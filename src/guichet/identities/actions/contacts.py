"""Contact details: mobile number, confirmation of email and phones."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from guichet.audit.record import record
from guichet.identities.models import Account


@transaction.atomic
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
