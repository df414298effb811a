"""What the sign-in journey shows around passkeys: the field passkey.js fills, and the answers to a
failed or cancelled passkey. The WebAuthn checks themselves are in identities.passkeys."""

from __future__ import annotations

from django.utils.translation import gettext as _

from guichet.identities import passkeys
from guichet.identities.models import Account
from guichet.journeys.engine import Context
from guichet.journeys.screens import Action, Field, Notice, Screen, Stay

# A browser's answer is a few kilobytes of JSON (attestation included); more is not a passkey.
CREDENTIAL_MAX_LENGTH = 16_000


def field(options: str) -> Field:
    """Hidden in the page: passkey.js puts the browser's answer in it and submits the form."""
    # Not required: an empty answer (no JavaScript) gets its own message rather than "this field is required".
    return Field("credential", "passkey", _("Passkey"), required=False, max_length=CREDENTIAL_MAX_LENGTH,
                 options=options)


def enrol(ctx: Context, account: Account, *, challenge: str) -> Screen:
    options = passkeys.registration_options(account, challenge=challenge,
                                            rp_name=ctx.policy.display_name(ctx.language))
    # Without JavaScript nothing happens on "Create": the notice says so and the second action leads out.
    return Screen(title=_("Create your passkey"), notices=(Notice.of("passkey.enrol_intro"),),
                  fields=(field(options),),
                  actions=(Action("verify", _("Create my passkey")),
                           Action("other_method", _("Choose another method"), True)))


def unanswered(credential: str, *, other_way: bool) -> Stay | None:
    """No answer (the browser has no JavaScript or no passkeys), or the member cancelled, or the device gave
    up: nothing was tried, so no failure is counted. None when there is an answer to check. `other_way`: the
    screen offers another way (another method, a code instead), so the message may point to it; without one,
    the `_no_other_way` variant does not send the member looking for a way the screen does not have."""
    if not credential:
        return _error("passkey.unavailable" if other_way else "passkey.unavailable_no_other_way")
    if passkeys.is_cancellation(credential):
        return _error("passkey.cancelled" if other_way else "passkey.cancelled_no_other_way")
    return None


def refused(*, other_way: bool) -> Stay:
    """The answer was checked and proves nothing (forged, unknown passkey, malformed). `other_way`: as for
    `unanswered`."""
    return _error("passkey.failed" if other_way else "passkey.failed_no_other_way")


def _error(code: str) -> Stay:
    return Stay(field_errors={"credential": (Notice.of(code, "error"),)})
