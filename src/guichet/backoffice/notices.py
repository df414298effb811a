"""The console's messages, by stable code (tests assert on codes; the wording is translated)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Promise] = {
    "backoffice.login_invalid": _("The email, password or code is incorrect, or access is blocked for a while "
                                  "after too many failed attempts."),
    "backoffice.session_expired": _("Your session has ended after 15 minutes without activity. Please sign in "
                                    "again."),
    "backoffice.signed_out": _("You are signed out."),
    "backoffice.enrolment_invalid": _("This enrolment link is not valid or has expired. Ask an administrator for "
                                      "a new one."),
    "backoffice.enrolment_code_wrong": _("This code is not correct. Check the time of your phone and type the "
                                         "code your app shows now."),
    "backoffice.enrolled": _("Your access is ready. Sign in with your email, your password and the code of your "
                             "app."),
    "backoffice.password_mismatch": _("The two passwords are different."),
    "backoffice.forbidden": _("You may not do this for this member."),
    "backoffice.reason_required": _("Give the reason for this action (for example the member's request and how "
                                    "you checked who they are)."),
    "backoffice.reason_too_long": _("The reason is too long (at most 500 characters)."),
    "backoffice.channel_required": _("Choose how the member receives the temporary password."),
    "backoffice.no_destination": _("We have no usable address for this member on this channel."),
    "backoffice.not_pending": _("This account is already activated: there is nothing to resend."),
    "backoffice.already_disabled": _("This account is already disabled."),
    "backoffice.not_disabled": _("This account is not disabled."),
    "backoffice.account_disabled": _("This account is disabled: no temporary password nor link is sent until a "
                                     "supervisor enables it again."),
    "backoffice.no_factors": _("This account has no second factor to remove."),
    "backoffice.search_empty": _("Type what to search for."),
    "backoffice.done.unlock": _("The account is unlocked: the member can sign in again."),
    "backoffice.done.resend_activation": _("A new activation link has been sent by email."),
    "backoffice.done.reset_password": _("A temporary password has been sent to the member. Nobody else sees it."),
    "backoffice.done.revoke_devices": _("The remembered devices are forgotten: the member will be asked for a "
                                        "code at next sign-in."),
    "backoffice.done.end_sessions": _("Every session of the member has been ended."),
    "backoffice.done.remove_factors": _("The second factors are removed and the member is signed out everywhere. "
                                        "They have been told."),
    "backoffice.done.disable": _("The account is disabled."),
    "backoffice.done.enable": _("The account is enabled again."),
    "backoffice.done.enable_password_cleared": _("The account is enabled again. Its temporary password was "
                                                 "cancelled: send a new one if the member needs it."),
}


def text(code: str) -> str:
    return str(MESSAGES[code])
