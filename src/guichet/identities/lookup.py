"""Finding an account from what a member typed, and showing contact details half-hidden."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Exists, OuterRef

from guichet.identities.models import Account, Factor


def normalise_identifier(kind: str, value: str) -> str:
    """One spelling per identity: emails lower-cased, numbers without spaces or dots."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    return "".join(ch for ch in value if ch not in " .-").upper()


def find(organisation: Any, kind: str, typed: str) -> Account | None:
    return Account.objects.filter(organisation=organisation, identifier=normalise_identifier(kind, typed)).first()


def find_with_factors(organisation: Any, kind: str, typed: str) -> tuple[Account | None, bool]:
    """The account, and whether it has a second factor, in one query: the sign-in needs both."""
    account = Account.objects.filter(organisation=organisation, identifier=normalise_identifier(kind, typed)) \
        .annotate(enrolled=Exists(Factor.objects.filter(account=OuterRef("pk")))).first()
    return account, bool(account and account.enrolled)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return make_password("not-a-real-password-only-for-constant-time")


def password_matches(account: Account | None, password: str) -> bool:
    """Always pays for one hash, so an unknown identifier answers as slowly as a known one."""
    if account is None or not account.has_usable_password():
        check_password(password, _dummy_hash())
        return False
    return account.check_password(password)


def mask_email(email: str) -> str:
    """'melkior.dupont@gmail.com' -> 'melk*****@gmail*****' (the guide's own style)."""
    local, _, domain = email.partition("@")
    return f"{local[:4]}*****@{domain.split('.')[0][:5]}*****"


def mask_phone(phone: str) -> str:
    digits = phone.replace(" ", "")
    return f"{digits[:-8]} ** ** ** {digits[-2:]}" if len(digits) > 8 else "** ** ** **"
