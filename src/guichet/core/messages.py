"""Stable message codes: the same code names a message in HTML and in JSON, and tests assert on codes.

A code never changes meaning once published; the wording may (it is translated by gettext).
Parameters are formatted with str.format, e.g. {remaining}.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CATALOGUE: dict[str, Promise] = {
    # fields
    "field.required": _("This field is required."),
    "field.too_long": _("This is too long (at most {max} characters)."),
    "field.email_invalid": _("Enter an email address such as name@example.fr."),
    "field.date_invalid": _("Enter a date such as 31/12/1960."),
    "field.code_invalid": _("The code has {length} digits."),
    "field.choice_invalid": _("Choose one of the proposed answers."),
    "field.phone_invalid": _("Enter a phone number such as 06 12 34 56 78."),
    # journeys
    "journey.expired": _("This page has expired. Please start again."),
    "journey.restarted": _("For your security, please start again."),
    "request.rate_limited": _("Too many attempts from your connection. Please wait a few minutes and try again."),
    # login
    "login.invalid": _("The identifier or password is incorrect, or access is temporarily blocked after "
                       "too many failed attempts. Check what you typed, or use “Forgot your password?”."),
    "login.lockout_rule": _("For your security, after {failures} failed attempts access is blocked for {duration}."),
    "login.not_activated": _("Your account is not activated yet. Follow the link in the email we sent you "
                             "when you registered."),
    "login.temporary_password_expired": _("Your temporary password has expired. Ask for a new one with "
                                          "“Forgot your password?”."),
    "login.mfa_notice": _("Since {date}, every member must set up two-step verification at sign-in."),
    "login.signed_out": _("You are signed out."),
    "login.session_expired": _("Your session has ended. Please sign in again."),
    # codes
    "code.sent_email": _("A verification code has been sent to your email address {destination}. "
                         "It is valid for {minutes} minutes."),
    "code.sent_sms": _("A verification code has been sent by text message to {destination}. "
                       "It is valid for {minutes} minutes."),
    "code.resent": _("A new code has been sent. Only the latest code works."),
    "code.wrong": _("This code is not correct. Attempts left: {remaining}."),
    "code.expired": _("This code has expired. Ask for a new code."),
    "code.exhausted": _("Too many wrong codes. For your security, please start again."),
    "code.missing": _("No valid code. Ask for a new code."),
    "code.wait": _("Please wait {seconds} seconds before asking for a new code."),
    "code.too_many_sends": _("Too many codes were sent. Please start again later."),
    # passwords (the rules themselves are described by security.passwords)
    "password.mismatch": _("The two passwords are different. Type the same password twice."),
    # second factor enrolment
    "mfa.enrol_intro": _("To protect your account, choose how you will confirm your identity at each sign-in."),
    "mfa.totp_intro": _("Add this account to your authenticator app (for example the one of your phone) "
                        "with the key below, then type the 6-digit code it shows."),
    "mfa.enrolled": _("Two-step verification is set up."),
}


def text(code: str, **params: Any) -> str:
    """The translated message for a code, in the active language."""
    message = str(CATALOGUE[code])
    return message.format(**params) if params else message
