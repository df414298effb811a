"""Authenticator apps (TOTP, RFC 6238): the seed is encrypted at rest, and a code is accepted once."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from guichet.identities.models import Factor


def _fernet() -> Fernet:
    key = hashlib.sha256(f"guichet-totp:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def new_seed() -> str:
    return pyotp.random_base32()


def seal(seed: str) -> str:
    return _fernet().encrypt(seed.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:  # the secret key changed: the member enrols again
        return ""


def provisioning_uri(seed: str, *, account_name: str, issuer: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=account_name, issuer_name=issuer)


def matching_step(seed: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to (now, or one step either side for clock drift), else None."""
    if not seed or not code.isdigit():
        return None
    totp = pyotp.TOTP(seed)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def verify(factor: Factor, code: str, now: datetime) -> bool:
    step = matching_step(unseal(factor.secret), code, now)
    if step is None or (factor.last_used_step is not None and step <= factor.last_used_step):
        return False
    # Conditional update: two nodes cannot both accept the same code.
    return Factor.objects.filter(pk=factor.pk, last_used_step=factor.last_used_step).update(last_used_step=step) == 1
