"""Registration, by email: the link sent once the member is proven, and the steps it opens.

With `password: after_link` the link opens the choice of the password; with `in_form` the password was
chosen in the form and the link opens the activation. Either way the link proves the email address.
Opening a link only peeks at it (mail scanners open links): the button of the step uses it.
"""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from guichet.challenges import secrets
from guichet.channels import outbox
from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys import passwords
from guichet.journeys.engine import Context, LinkStart, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path, page_path
from guichet.journeys.registration_identity import support_paragraphs
from guichet.journeys.screens import Action, Done, Link, Notice, Screen, Transition

PURPOSE = actions.ACTIVATION_PURPOSE


def link_hours(ctx: Context) -> int:
    return max(1, int(ctx.policy.registration.link.lifetime.total_seconds() // 3600))


def send_link(ctx: Context, account: Account) -> None:
    """Email the link that finishes the registration; an earlier unused one stops working."""
    rule = ctx.policy.registration
    step = "set_password" if rule.password == "after_link" else "activate"
    issued = secrets.issue_link(organisation=ctx.organisation, purpose=PURPOSE, lifetime=rule.link.lifetime,
                                now=ctx.now, account=account, data={"step": step})
    url = ctx.url(journey_path(ctx.organisation.slug, "registration")) + "?lien=" + issued.secret
    outbox.send_email(ctx.organisation, to=account.email,
                      template="registration_password" if step == "set_password" else "registration_activation",
                      context={"url": url, "hours": link_hours(ctx)}, language=ctx.language, account_id=account.pk)


def confirmation(ctx: Context) -> Screen:
    """The end of the first part: the same for a new member and for one who already has an account."""
    local = timezone.localtime(ctx.now)
    sent = ("registration.password_email_sent" if ctx.policy.registration.password == "after_link"
            else "registration.activation_email_sent")
    return Screen(
        title=_("Congratulations! Now check your email"),
        notices=(Notice.of("registration.first_step_done", "success",
                           date=formats.date_format(local, "DATE_FORMAT"), time=local.strftime("%H:%M")),
                 Notice.of(sent, hours=link_hours(ctx)), Notice.of("registration.check_spam")),
        paragraphs=support_paragraphs(ctx),
        links=(Link(_("Back to the home page"), page_path(ctx.organisation.slug)),))


def open_link(ctx: Context, token: str) -> LinkStart | Screen:
    peeked = secrets.peek_link(purpose=PURPOSE, token=token, now=ctx.now)
    challenge = peeked.challenge
    if challenge is None or challenge.organisation_id != ctx.organisation.pk:
        return dead_link(ctx, secrets.Check.MISSING)
    if not peeked.ok:
        return dead_link(ctx, peeked.check)
    account = challenge.account
    if account is None or account.state != Account.State.PENDING or not _in_registry(account):
        return dead_link(ctx, secrets.Check.MISSING)
    # From the account, not the link: links sent by agents (identities.actions.send_activation_link) say
    # nothing, and a password chosen in the form is the one thing activation must not ask again.
    step = "activate" if account.has_usable_password() else "set_password"
    return LinkStart(step, {"challenge": str(challenge.pk), "account": str(challenge.account_id)})


def dead_link(ctx: Context, check: secrets.Check) -> Screen:
    slug = ctx.organisation.slug
    if check is secrets.Check.EXPIRED:
        return Screen(title=_("This link has expired"),
                      notices=(Notice.of("registration.link_expired", "warning", hours=link_hours(ctx)),),
                      paragraphs=support_paragraphs(ctx),
                      links=(Link(_("Register again"), journey_path(slug, "registration")),))
    return Screen(title=_("This link can no longer be used"), notices=(Notice.of("registration.link_invalid",
                                                                                  "warning"),),
                  paragraphs=support_paragraphs(ctx),
                  links=(Link(_("Sign in"), journey_path(slug, "login")),
                         Link(_("Register again"), journey_path(slug, "registration"))))


def _account(ctx: Context, run: Run) -> Account:
    return Account.objects.get(pk=run.state["account"], organisation=ctx.organisation)


def _use(ctx: Context, run: Run, account: Account) -> Done | None:
    """Use the link now (once, before it expires), or the screen saying why it cannot be."""
    used = secrets.use(run.state["challenge"], now=ctx.now)
    if not used.ok or account.state != Account.State.PENDING or not _in_registry(account):
        return Done(dead_link(ctx, used.check if not used.ok else secrets.Check.MISSING))
    return None


def _in_registry(account: Account) -> bool:
    """A pending account's record must still be in the registry when its link is used: a record retired since
    the registration (registry.retirement) proves nothing, so the account is not activated."""
    return account.member is None or account.member.in_registry


def _sign_in_link(ctx: Context) -> tuple[Link, ...]:
    return (Link(_("Sign in"), journey_path(ctx.organisation.slug, "login")),)


def _email_is_the_second_factor(ctx: Context) -> bool:
    """Where every sign-in needs a code and codes may go by email, the address the registration link has just
    proven is the member's second factor: the first sign-in sends the code there (the pension guide's "Un email
    contenant votre code d'authentification sera envoyé"), instead of asking a member who has just registered
    to set one up, even after `enrolment_required_from`."""
    rule = ctx.policy.login.second_factor
    return rule.required and "email" in rule.channels


class SetPassword(Step):
    name = "set_password"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from the emailed link

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title=_("Choose your password"), fields=passwords.fields(ctx),
                      actions=(Action("save", _("Save my password")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = _account(ctx, run)
        member = account.member
        weak = passwords.problems(ctx, data, user_inputs=[account.email, account.identifier, *(
            (member.first_name, member.last_name, member.member_number) if member else ())])
        if weak is not None:
            return weak
        dead = _use(ctx, run, account)
        if dead is not None:
            return dead
        actions.complete_registration(account, now=ctx.now, password=data[passwords.NEW], ip=ctx.ip,
                                      email_factor=_email_is_the_second_factor(ctx))
        return Done(Screen(title=_("Your password is set"),
                           notices=(Notice.of("registration.password_set", "success"),),
                           links=_sign_in_link(ctx)))


class Activate(Step):
    name = "activate"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from the emailed link

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title=_("Activate your account"), notices=(Notice.of("registration.activate_intro"),),
                      actions=(Action("activate", _("Activate my account")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = _account(ctx, run)
        dead = _use(ctx, run, account)
        if dead is not None:
            return dead
        actions.complete_registration(account, now=ctx.now, ip=ctx.ip, email_factor=_email_is_the_second_factor(ctx))
        return Done(Screen(title=_("Your account is activated"),
                           notices=(Notice.of("registration.activated", "success"),), links=_sign_in_link(ctx)))
