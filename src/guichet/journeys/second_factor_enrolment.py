"""A signed-in member adds a second factor from their space (decisions.md, "Second factor at sign-in for the
farm body and the health mutual"): a code by email or text message, an authenticator app or a passkey, as
the organisation's policy allows. Once a member has one, every sign-in asks for it (login.py).

The current password is asked first: a session left open on a shared computer must not be enough to bind
a stranger's phone to the account. A wrong one counts towards the sign-in lock-out. The method is then
chosen and confirmed by the very steps the sign-in journey uses when enrolment is required
(login_enrolment.py), so wrong codes count the same way and the enrolment goes through the same audited
actions, which forget the account's remembered devices, keep a text-message number with the factor (never
as the account's mobile, which recovery uses) and tell the member by email and text message.

```mermaid
stateDiagram-v2
    [*] --> confirm_password
    confirm_password --> confirm_password: not signed in (link to sign in) / no password / wrong or locked
    confirm_password --> enrol_choose: password right
    enrol_choose --> enrol_choose: mobile number not valid
    enrol_choose --> enrol_confirm
    enrol_confirm --> enrol_confirm: wrong code or passkey / resend
    enrol_confirm --> enrol_choose: passkey, another method
    enrol_confirm --> [*]: too many wrong answers (start again)
    enrol_confirm --> [*]: confirmed ("Two-step verification is set up")
```
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _

from guichet.identities.models import Account
from guichet.journeys.engine import Context, Journey, Step
from guichet.journeys.login_enrolment import EnrolChoose, EnrolConfirm
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path, page_path
from guichet.journeys.screens import Action, Done, Field, Link, Next, Notice, Screen, Stay, Transition
from guichet.journeys.signed_in import check_current_password, signed_in


def _title() -> str:
    return _("Make my account more secure")


def _back(ctx: Context) -> Link:
    return Link(_("Back to my space"), page_path(ctx.organisation.slug, "espace"))


def _refusal(ctx: Context, account: Account | None) -> Screen | None:
    """Why this member cannot go on, if they cannot: nobody is signed in, or the account has no password
    (it signs in through FranceConnect or another provider, whose sign-ins no second factor guards)."""
    if account is None:
        return Screen(title=_title(), notices=(Notice.of("mfa.sign_in_first", "warning"),),
                      links=(Link(_("Sign in"), journey_path(ctx.organisation.slug, "login")),))
    if not account.has_usable_password():
        return Screen(title=_title(), notices=(Notice.of("mfa.no_password", "info"),), links=(_back(ctx),))
    return None


class ConfirmPassword(Step):
    name = "confirm_password"

    def screen(self, ctx: Context, run: Run) -> Screen:
        refusal = _refusal(ctx, signed_in(ctx))
        if refusal is not None:
            return refusal
        return Screen(title=_title(),
                      paragraphs=(_("Two-step verification adds a second proof to your password, which you "
                                    "choose on the next page. Once it is set up, it is asked each time you "
                                    "sign in."),
                                  _("For your security, first type your password again.")),
                      fields=(Field("current_password", "password", _("Your current password"),
                                    autocomplete="current-password", max_length=1024),),
                      actions=(Action("confirm", _("Next")),),
                      links=(_back(ctx),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = signed_in(ctx)
        refusal = _refusal(ctx, account)
        if refusal is not None:
            return Stay(refusal.notices)
        assert account is not None
        wrong = check_current_password(ctx, account, data["current_password"], reason="second_factor_enrolment")
        if wrong is not None:
            return wrong
        # What the enrolment steps read: the account (the one just re-authenticated, not whoever is signed in
        # later: the run is bound to this session) and that enrolment is what this run is for.
        run.state.update(account=str(account.pk), enrol=True)
        return Next()


def finish(ctx: Context, run: Run) -> Done:
    """Reached once enrol_confirm accepted the new factor."""
    return Done(Screen(title=_("Confirmation"), notices=(Notice.of("mfa.enrolled", "success"),),
                       paragraphs=(_("From now on, it will be asked each time you sign in."),),
                       links=(Link(_("Go to my space"), page_path(ctx.organisation.slug, "espace")),)))


SECOND_FACTOR_ENROLMENT = Journey(name="second_factor_enrolment",
                                  steps=(ConfirmPassword(), EnrolChoose(), EnrolConfirm()),
                                  finish=finish, lifetime=timedelta(minutes=20))
