"""Changing one's password while signed in (farm guide, "Changement de mot de passe").

The current password is asked again: a session left open on a shared computer must not be enough.
Wrong current passwords count towards the sign-in lock-out. The new password ends every other
session and forgets remembered devices (identities.actions.set_password); the renderers keep this
session alive (web.outcomes.keep_session).

```mermaid
stateDiagram-v2
    [*] --> change
    change --> change: not signed in (link to sign in) / wrong current password / weak new password
    change --> [*]: changed ("Your password has been changed")
```
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _

from guichet.identities import actions
from guichet.journeys import passwords
from guichet.journeys.engine import Context, Journey, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path, page_path
from guichet.journeys.screens import Action, Done, Field, Link, Notice, Outcome, Screen, Stay, Transition
from guichet.journeys.signed_in import check_current_password, signed_in


def _sign_in_first(ctx: Context) -> Screen:
    return Screen(title=_("Change my password"), notices=(Notice.of("password.sign_in_first", "warning"),),
                  links=(Link(_("Sign in"), journey_path(ctx.organisation.slug, "login")),))


class Change(Step):
    name = "change"

    def screen(self, ctx: Context, run: Run) -> Screen:
        if signed_in(ctx) is None:
            return _sign_in_first(ctx)
        return Screen(title=_("Change my password"),
                      fields=(Field("current_password", "password", _("Your current password"),
                                    autocomplete="current-password", max_length=1024),
                              *passwords.fields(ctx, _("Your new password"))),
                      actions=(Action("change", _("Change my password")),),
                      links=(Link(_("Back to my space"), page_path(ctx.organisation.slug, "espace")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = signed_in(ctx)
        if account is None:
            return Stay((Notice.of("password.sign_in_first", "warning"),))
        wrong = check_current_password(ctx, account, data["current_password"], reason="password_change")
        if wrong is not None:
            return wrong
        member = account.member
        problem = passwords.problems(ctx, data, [account.identifier, account.email]
                                     + ([member.first_name, member.last_name] if member else []))
        if problem is not None:
            return problem
        if data[passwords.NEW] == data["current_password"]:
            return Stay(field_errors={passwords.NEW: (Notice.of("password.same_as_current", "error"),)})
        actions.set_password(account, data[passwords.NEW], now=ctx.now, ip=ctx.ip, reason="member_change")
        actions.notify_password_changed(account, now=ctx.now, language=ctx.language)
        return Done(Screen(title=_("Confirmation"), notices=(Notice.of("password.changed", "success"),),
                           paragraphs=(_("You can use it the next time you sign in."),),
                           links=(Link(_("Go to my space"), page_path(ctx.organisation.slug, "espace")),)))


def finish(ctx: Context, run: Run) -> Outcome:
    return Done(_sign_in_first(ctx))   # not reached: the step ends the journey itself


PASSWORD_CHANGE = Journey(name="password_change", steps=(Change(),), finish=finish, lifetime=timedelta(minutes=30))
