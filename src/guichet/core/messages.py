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
    "login.lockout_escalates": _("If the failures go on after that, access is blocked for longer each time."),
    "login.not_activated": _("Your account is not activated yet. Follow the link in the email we sent you "
                             "when you registered."),
    "login.temporary_password_expired": _("Your temporary password has expired. Ask for a new one with "
                                          "“Forgot your password?”."),
    "login.mfa_notice": _("Since {date}, every member must set up two-step verification at sign-in."),
    "login.mfa_notice_upcoming": _("From {date}, every member must set up two-step verification at sign-in."),
    "login.signed_out": _("You are signed out."),
    "login.session_expired": _("Your session has ended. Please sign in again."),
    # codes
    "code.sent_email": _("A verification code has been sent to your email address {destination}. "
                         "It is valid for {minutes} minutes."),
    "code.sent_sms": _("A verification code has been sent by text message to {destination}. "
                       "It is valid for {minutes} minutes."),
    "code.resent": _("A new code has been sent. Only the latest code works."),
    "code.wrong": _("This code is not correct. Attempts left: {remaining}."),
    # An authenticator app's codes are not counted one by one (a new one comes every 30 seconds): the
    # lock-out counts the failures.
    "code.wrong_app": _("This code is not correct. Type the code your app shows now."),
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
    "mfa.sign_in_first": _("To make your account more secure, please sign in first."),
    "mfa.no_channel": _("We cannot send you a code: your account has no email address or mobile number to send "
                        "it to. Please contact us."),
    "mfa.no_password": _("Your account has no password: you sign in through another service, such as "
                         "FranceConnect. Two-step verification protects sign-ins with a password only."),
    # passkeys
    "passkey.enrol_intro": _("Press “Create my passkey”, then follow what your device asks (fingerprint, face, "
                             "PIN or security key). This needs JavaScript in your browser: if nothing happens, "
                             "choose another method."),
    "passkey.sign_in_intro": _("Press “Use my passkey”, then follow what your device asks (fingerprint, face, "
                               "PIN or security key). If nothing happens, receive a code instead."),
    "passkey.sign_in_intro_no_code": _("Press “Use my passkey”, then follow what your device asks (fingerprint, "
                                       "face, PIN or security key)."),
    "passkey.cancelled": _("The passkey was not used. Press the button again, or choose another way."),
    "passkey.cancelled_no_other_way": _("The passkey was not used. Press the button again."),
    "passkey.unavailable": _("Your browser could not use a passkey here (JavaScript may be switched off). "
                             "Choose another way."),
    "passkey.unavailable_no_other_way": _("Your browser could not use a passkey here (JavaScript may be switched "
                                          "off). Switch JavaScript on and try again, or sign in from another "
                                          "browser, such as the one on the phone or computer where you created "
                                          "your passkey. If you cannot, please contact us."),
    "passkey.failed": _("This passkey could not be checked. Try again, or choose another way."),
    "passkey.failed_no_other_way": _("This passkey could not be checked. Try again. If it still does not work, "
                                     "please contact us."),
    # registration
    "registration.intro": _("Everything you type must match what we hold in your member file."),
    "registration.member_number_invalid": _("This number is not valid. Check it on one of our letters."),
    "registration.email_mismatch": _("The two email addresses are different. Type the same address twice."),
    "registration.iban_invalid": _("Type the last {length} characters of your IBAN (letters and digits)."),
    "registration.no_match": _("We could not find a member file with these details. Check that each one is "
                               "written as on our letters, or contact us."),
    "registration.questions_intro": _("To confirm your identity, answer these questions about your member file."),
    "registration.answer_wrong": _("This answer is not correct. Attempts left: {remaining}."),
    "registration.amount_invalid": _("Type an amount such as 1 234,56."),
    "registration.questions_failed": _("We could not confirm your identity online. For your security, try "
                                       "again tomorrow, or contact us."),
    "registration.policy_intro": _("Read the usage policy, then accept it to create your account."),
    "registration.first_step_done": _("You completed the first step of your registration on {date} at {time}."),
    "registration.password_email_sent": _("One step is left: choosing your password. We have sent you an "
                                          "email with the instructions; follow them to finish your registration."),
    "registration.activation_email_sent": _("To confirm the creation of your account, we have sent an activation "
                                            "link to the email address you gave. The link works for {hours} "
                                            "hours."),
    "registration.check_spam": _("If you cannot find the email in your inbox, look in your spam or junk "
                                 "mail folder."),
    "registration.support": _("Need help? Contact us: {contacts}."),
    "registration.password_set": _("Your password is set and your registration is complete. You can now "
                                   "sign in."),
    "registration.activated": _("Your account is activated! You can now sign in to your space."),
    "registration.activate_intro": _("One last click: confirm that you want to activate your account."),
    "registration.update_intro": _("This email address will become the address of your account: {email}. "
                                   "Choose a new password: it replaces your old one."),
    "registration.update_intro_sms": _("This email address will become the address of your account: {email}. "
                                       "To check that the request comes from the account's holder, we send a code "
                                       "by text message to the mobile phone number of your account."),
    "registration.update_code_sms": _("Type the code we sent by text message to the mobile phone number of your "
                                      "account. It is valid for {minutes} minutes."),
    "registration.update_code_letter": _("Type the confirmation code of the letter we sent to the postal address "
                                         "of your account."),
    "registration.update_code_exhausted": _("Too many wrong codes: for your security, this link can no longer be "
                                            "used. To try again, register again, or contact us."),
    "registration.update_letter_dead": _("The code of our letter can no longer be used: it has expired, or a newer "
                                         "letter replaced it. To receive a new letter, register again, or contact "
                                         "us."),
    "registration.account_updated": _("Your account is updated: your email address is saved and your new "
                                      "password is set. You can now sign in."),
    "registration.link_expired": _("This link has expired: for your security it worked for {hours} hours. "
                                   "Please register again."),
    "registration.link_invalid": _("This link can no longer be used: it was already used, or a newer link was "
                                   "sent. If your account is already active, sign in."),
    "registration.provisioned_postal": _("You do not need to register: we create the accounts of our members. "
                                         "Your identifier and a temporary password are sent to you by post. "
                                         "Sign in with them, then choose your own password."),
    "registration.provisioned_email": _("You do not need to register: we create the accounts of our members. "
                                        "Your identifier and a temporary password are sent to you by email. "
                                        "Sign in with them, then choose your own password."),
    "registration.provisioned_sms": _("You do not need to register: we create the accounts of our members. "
                                      "Your identifier and a temporary password are sent to you by text "
                                      "message. Sign in with them, then choose your own password."),
    "registration.provisioned_lost": _("You never received them, or lost them? Ask for a new temporary password "
                                       "with “Forgot your password?”."),
    # recovery (the same answers whether or not an account matches: no enumeration)
    "recovery.sent_if_exists": _("If an account matches what you typed, we have sent it an email with a link to "
                                 "choose a new password. The link is valid for {duration}. If you do not see the "
                                 "email, look in your spam folder."),
    "recovery.sent_if_exists_with_code": _("If an account matches what you typed, we have sent it an email with a "
                                           "link “Reset my password” and a verification code. The link is valid "
                                           "for {duration}. If you do not see the email, look in your spam folder."),
    "recovery.link_dead": _("This link can no longer be used: it has expired or has already been used. "
                            "Please make a new request."),
    "recovery.password_reset": _("Your password has been reset. You can now sign in with it."),
    "recovery.code_sent_email": _("If your details are on record, a confirmation code has been sent to you by "
                                  "email. Type it within {minutes} minutes."),
    "recovery.code_sent_sms": _("If your details are on record, a confirmation code has been sent to you by text "
                                "message. Type it within {minutes} minutes."),
    "recovery.verify_invalid": _("The number or the verification code is not correct. Attempts left: {remaining}."),
    "recovery.temporary_sent_email": _("A temporary password has been sent to you by email."),
    "recovery.temporary_sent_sms": _("A temporary password has been sent to you by text message."),
    "recovery.letter_sent": _("For your security, your temporary password will be sent to you by post, to the "
                              "address we have on record. It should arrive within a few days."),
    "recovery.letter_already_sent": _("A letter with a temporary password was sent to you by post on {date}, to the "
                                      "address we have on record. If it has not arrived, please contact us."),
    "captcha.wrong": _("The answer to the anti-robot check is not correct. Please answer the new question."),
    # password change and first sign-in
    "password.current_wrong": _("Your current password is not correct."),
    "password.same_as_current": _("Choose a password different from your current one."),
    "password.changed": _("Your password has been changed."),
    "password.sign_in_first": _("To change your password, please sign in first."),
    "first_login.temporary": _("Your password is temporary. You must choose your own."),
    "first_login.abandoned": _("You are not signed in. Your temporary password keeps working until it expires."),
    "contact.confirm_intro": _("To use your space, you must confirm your contact details."),
    "contact.email_verified": _("Your email address has been verified."),
    "contact.email_taken": _("This email address is already used by another account."),
}


def text(code: str, **params: Any) -> str:
    """The translated message for a code, in the active language."""
    message = str(CATALOGUE[code])
    return message.format(**params) if params else message
