"""The forgotten-password journey. The policy's `recovery.style` chooses the way:

- `link`: an email with a link to choose a new password (pension-fund guide);
- `link_and_code`: the same link plus a verification code asked on the page it opens (health mutual);
- `code_then_temporary_password`: a code, or a security question for members who never signed in,
  then a temporary password by email, SMS or post (farm guide; see recovery_temporary.py).

Whatever was typed, the member sees the same screens: nothing tells whether an account exists.

```mermaid
stateDiagram-v2
    [*] --> ask
    ask --> ask: too many requests from the connection / robot check wrong / too many for the identifier
    ask --> [*]: link styles: "if an account matches, we sent an email" (same screen for everybody)
    [*] --> verify_code: link opened (link_and_code)
    [*] --> new_password: link opened (link)
    verify_code --> verify_code: wrong identifier or code
    verify_code --> new_password: right
    new_password --> [*]: password set (link used once)
    ask --> channel: temporary-password style
    channel --> code: signed in before, unknown identifier, or channel missing on the account
    channel --> question: never signed in
    channel --> [*]: never signed in, no question for the category (letter)
    channel --> [*]: too many codes to this account in the hour (start again)
    code --> code: wrong code / resend
    code --> [*]: too many codes in the run or to the account in the hour (start again)
    code --> [*]: right (temporary password by the chosen channel)
    question --> [*]: right (temporary password by the chosen channel) / wrong (letter + SMS or email)
    note right of question: a letter less than letter_every old holds back a new one ("sent on <date>")
```
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _

from guichet.identities import actions, lookup
from guichet.journeys import recovery_captcha
from guichet.journeys.engine import Context, Journey, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.recovery_common import duration_text, find_account, password_reset_screen
from guichet.journeys.recovery_link import NewPassword, VerifyCode, open_link, send_link
from guichet.journeys.recovery_temporary import ChooseChannel, RecoveryCode, SecurityQuestion, sends_key
from guichet.journeys.screens import Action, Done, Field, Link, Next, Notice, Outcome, Screen, Stay, Transition
from guichet.security import ratelimit

# Scripts, not members, ask for many resets: per connection, and per identifier (which also spares
# a member a flood of emails and text messages sent by someone else).
PER_IP_LIMIT, PER_IP_WINDOW = 30, timedelta(minutes=15)
PER_IDENTIFIER_LIMIT, PER_IDENTIFIER_WINDOW = 5, timedelta(hours=1)


class Ask(Step):
    name = "ask"

    def enter(self, ctx: Context, run: Run) -> tuple[Notice, ...]:
        if ctx.policy.recovery.captcha:
            recovery_captcha.new_question(ctx, run)
        return ()

    def screen(self, ctx: Context, run: Run) -> Screen:
        rule, identifier = ctx.policy.recovery, ctx.policy.login.identifier
        fields = []
        if "identifier" in rule.ask:
            fields.append(Field("identifier", "email" if identifier.kind == "email" else "text",
                                identifier.label.get(ctx.language), autocomplete="username",
                                hint=identifier.help.get(ctx.language) if identifier.help else ""))
        if "email" in rule.ask:
            fields.append(Field("email", "email", _("Email address of your account"), autocomplete="email"))
        if rule.captcha:
            fields.append(recovery_captcha.field(run))
        links = [Link(_("Back to the sign-in page"), journey_path(ctx.organisation.slug, "login"))]
        if rule.update_account_url:
            links.insert(0, Link(_("Your account has no email address? Update my account"), rule.update_account_url))
        if rule.style == "code_then_temporary_password":
            return Screen(title=_("Verify your identity"), paragraphs=(_("For your security, we must verify "
                                                                         "your identity."),),
                          fields=tuple(fields), actions=(Action("continue", _("Next")),), links=tuple(links))
        return Screen(title=_("Forgot your password?"),
                      paragraphs=(_("Fill in this form: we will email you the instructions to reset your "
                                    "password."),),
                      fields=tuple(fields), actions=(Action("continue", _("Continue")),), links=tuple(links))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        rule = ctx.policy.recovery
        typed = data.get("identifier") or data.get("email", "")
        key = lookup.normalise_identifier(ctx.policy.login.identifier.kind if "identifier" in rule.ask else "email",
                                          typed)
        # The order matters. The connection's limit first: it bounds the robot answers too. Then the robot
        # check, and only then the identifier's limit: counted earlier, a script answering the robot check
        # wrongly with a member's identifier would spend that member's allowance and lock them out of recovery.
        if not ratelimit.hit(f"recovery:ip:{ctx.ip}", limit=PER_IP_LIMIT, window=PER_IP_WINDOW, now=ctx.now).allowed:
            return Stay((Notice.of("request.rate_limited", "error"),))
        if rule.captcha and not recovery_captcha.passed(ctx, run, data[recovery_captcha.NAME]):
            return Stay(field_errors={recovery_captcha.NAME: (Notice.of("captcha.wrong", "error"),)})
        if not ratelimit.hit(f"recovery:id:{ctx.organisation.pk}:{key}", limit=PER_IDENTIFIER_LIMIT,
                             window=PER_IDENTIFIER_WINDOW, now=ctx.now).allowed:
            return Stay((Notice.of("request.rate_limited", "error"),))
        account = find_account(ctx, data)
        actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="asked", style=rule.style)
        if rule.style == "code_then_temporary_password":
            run.state.update(asked=True, account=str(account.pk) if account else None,
                             sends=sends_key(ctx, account, key))
            return Next()
        with_code = rule.style == "link_and_code"
        if account is not None and account.email:
            send_link(ctx, account, with_code=with_code)
        return Done(_sent_screen(ctx, with_code))


def _sent_screen(ctx: Context, with_code: bool) -> Screen:
    rule = ctx.policy.recovery
    links = [Link(_("Back to the sign-in page"), journey_path(ctx.organisation.slug, "login"))]
    if rule.update_account_url:
        # Shown to everybody: it must not hint that the account exists or has no email address.
        links.insert(0, Link(_("Your account has no email address? Update my account"), rule.update_account_url))
    code = "recovery.sent_if_exists_with_code" if with_code else "recovery.sent_if_exists"
    return Screen(title=_("Check your email"), notices=(Notice.of(code, "info",
                                                                  duration=duration_text(rule.link.lifetime)),),
                  links=tuple(links))


def finish(ctx: Context, run: Run) -> Outcome:
    return Done(password_reset_screen(ctx))   # not reached: every way ends with its own screen


RECOVERY = Journey(
    name="recovery",
    steps=(Ask(), ChooseChannel(), RecoveryCode(), SecurityQuestion(), VerifyCode(), NewPassword()),
    finish=finish, lifetime=timedelta(minutes=45), link=open_link,
)
