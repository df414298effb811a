"""Passkeys (WebAuthn) with py_webauthn: the options the browser needs, and the checks of its answers.

The relying party is Guichet's own address (settings.BASE_URL): its host is the rp id, the whole
origin is what the browser must have signed. A challenge is random and single-purpose, not a secret:
journeys keep it (base64url) in run.state between the options and the answer.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import webauthn
from django.conf import settings
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidJSONStructure, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from guichet.identities.models import Account, Passkey

# Anything a browser (or a forger) can send that py_webauthn refuses, including malformed base64 and JSON.
_REFUSED = (InvalidRegistrationResponse, InvalidAuthenticationResponse, InvalidJSONStructure, ValueError,
            KeyError, TypeError, AttributeError)


@dataclass(frozen=True)
class NewPasskey:
    """A verified registration, ready to store (identities.actions.enrol_passkey)."""

    credential_id: str
    public_key: bytes
    sign_count: int
    transports: list[str]


def rp_id() -> str:
    return urlsplit(settings.BASE_URL).hostname or "localhost"


def origin() -> str:
    parts = urlsplit(settings.BASE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def new_challenge() -> str:
    return bytes_to_base64url(secrets.token_bytes(32))


def _descriptors(account: Account) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id),
                                          transports=[AuthenticatorTransport(t) for t in key.transports if t in known])
            for key in account.passkeys.all()]


def registration_options(account: Account, *, challenge: str, rp_name: str) -> str:
    """The JSON for navigator.credentials.create (the same every time for the same challenge)."""
    name = account.email or account.identifier
    options = webauthn.generate_registration_options(
        rp_id=rp_id(), rp_name=rp_name, user_name=name, user_display_name=name, user_id=account.pk.bytes,
        challenge=base64url_to_bytes(challenge), exclude_credentials=_descriptors(account),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED))
    return webauthn.options_to_json(options)


def authentication_options(account: Account, *, challenge: str) -> str:
    """The JSON for navigator.credentials.get, limited to this account's passkeys."""
    options = webauthn.generate_authentication_options(
        rp_id=rp_id(), challenge=base64url_to_bytes(challenge), allow_credentials=_descriptors(account),
        user_verification=UserVerificationRequirement.PREFERRED)
    return webauthn.options_to_json(options)


def verify_registration(credential: str, *, challenge: str) -> NewPasskey | None:
    """The new passkey, or None when the browser's answer does not prove one (forged, other site, replayed)."""
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id(),
            expected_origin=origin())
        transports = _transports(credential)
    except _REFUSED:
        return None
    return NewPasskey(credential_id=bytes_to_base64url(verified.credential_id),
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      transports=transports)


def _transports(credential: str) -> list[str]:
    parsed: Any = json.loads(credential)
    found = parsed.get("response", {}).get("transports") or []
    return [str(t) for t in found if isinstance(t, str)][:8]


def authenticate(account: Account, credential: str, *, challenge: str, now: datetime) -> Passkey | None:
    """The account's passkey that signed this answer, or None. The sign counter moves forward atomically,
    so a cloned authenticator (or the same answer twice on two nodes) is refused."""
    try:
        parsed: Any = json.loads(credential)
        key = account.passkeys.filter(credential_id=str(parsed.get("id", ""))).first()
        if key is None:
            return None
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id(),
            expected_origin=origin(), credential_public_key=bytes(key.public_key),
            credential_current_sign_count=key.sign_count)
    except _REFUSED:
        return None
    updated = Passkey.objects.filter(pk=key.pk, sign_count=key.sign_count).update(
        sign_count=verified.new_sign_count, last_used_at=now)
    return key if updated == 1 else None


def is_cancellation(credential: str) -> bool:
    """passkey.js sends {"error": name} when the member cancelled or the device failed: no proof was tried."""
    try:
        parsed: Any = json.loads(credential)
    except ValueError:
        return False
    return isinstance(parsed, dict) and set(parsed) == {"error"}
