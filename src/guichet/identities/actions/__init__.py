"""Every change to an account goes through here, and each one is audited.

Functions take the actor and the client address explicitly (no request object, no thread-locals).
Callers use `from guichet.identities import actions` then `actions.<name>`; the functions live in
submodules by theme.
"""

from guichet.identities.actions.account_update import (
    ACCOUNT_UPDATE_PURPOSE,
    LETTER_CODE_PURPOSE,
    SMS_CODE_PURPOSE,
    check_letter_code,
    give_email_and_password,
    proof_for,
    record_account_update_sent,
    record_update_code_refused,
    refuse_account_update,
    send_update_code,
    send_update_letter,
    tell_owner_of_update,
)
from guichet.identities.actions.accounts import (
    activate,
    create_account,
    disable,
    enable,
    end_sessions,
    notify_locked,
    record_recovery,
    record_sign_in,
    record_sign_in_failure,
    sign_out,
    unlock,
)
from guichet.identities.actions.contacts import (
    confirm_contacts,
    set_mobile,
)
from guichet.identities.actions.credentials import (
    enrol_factor,
    enrol_passkey,
    new_temporary_password,
    notify_password_changed,
    remember_device,
    revoke_devices,
    set_password,
    set_temporary_password,
)
from guichet.identities.actions.registration import (
    ACTIVATION_PURPOSE,
    accept_usage_policy,
    complete_registration,
    notify_already_registered,
    provision_account,
    provision_members,
    record_registration_failure,
    register_member,
    send_activation_link,
)

__all__ = [
    "ACCOUNT_UPDATE_PURPOSE",
    "ACTIVATION_PURPOSE",
    "LETTER_CODE_PURPOSE",
    "SMS_CODE_PURPOSE",
    "accept_usage_policy",
    "activate",
    "check_letter_code",
    "complete_registration",
    "confirm_contacts",
    "create_account",
    "disable",
    "enable",
    "end_sessions",
    "give_email_and_password",
    "enrol_factor",
    "enrol_passkey",
    "new_temporary_password",
    "notify_already_registered",
    "notify_locked",
    "notify_password_changed",
    "proof_for",
    "provision_account",
    "provision_members",
    "record_account_update_sent",
    "record_recovery",
    "record_registration_failure",
    "record_sign_in",
    "record_sign_in_failure",
    "record_update_code_refused",
    "refuse_account_update",
    "register_member",
    "remember_device",
    "revoke_devices",
    "send_activation_link",
    "send_update_code",
    "send_update_letter",
    "set_mobile",
    "set_password",
    "set_temporary_password",
    "sign_out",
    "tell_owner_of_update",
    "unlock",
]
