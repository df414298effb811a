"""The sign-in journey: identifier and password, then (per policy) a one-time code or an authenticator
app, or the enrolment of a second factor when the organisation requires it from a date.

```mermaid
stateDiagram-v2
    [*] --> credentials
    credentials --> credentials: wrong / unknown / locked (same answer)
    credentials --> enrol_choose: password right, enrolment required
    credentials --> second_factor: password right, second factor due
    credentials --> [*]: password right, nothing else due (signed in)
    enrol_choose --> enrol_confirm
    enrol_confirm --> [*]: code right (factor enrolled, signed in)
    enrol_confirm --> enrol_choose: passkey, another method
    second_factor --> second_factor: wrong code or passkey / resend / code instead (if one can be sent)
    second_factor --> second_factor: a code is due but can go nowhere (mfa.no_channel, no action)
    second_factor --> [*]: code right (signed in)
```
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from guichet.identities import lookup, passkeys, totp
from guichet.identities.models import Account, Factor, Passkey
from guichet.journeys import codes, passkey_screens
from guichet.journeys.engine import Context, Journey, Step
from guichet.journeys.failures import count_failure, lockout_key
from guichet.journeys.first_login import FIRST_LOGIN_STEPS
from guichet.journeys.login_enrolment import EnrolChoose, LoginEnrolConfirm, remember_field
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.screens import (
    Action,
    Field,
    Link,
    Next,
    Notice,
    Screen,
    SignedIn,
    Stay,
    Transition,
)
from guichet.journeys.second_factors import account_of, wrong_second_factor
from guichet.security import devices, lockout, ratelimit

# Against password spraying from one address; generous, since a whole office may share one address
# (per-identity lock-out is the main defence).
PER_IP_LIMIT, PER_IP_WINDOW = 100, timedelta(minutes=15)


def _second_factor_due(ctx: Context, account: Account, enrolled: bool) -> bool:
    rule = ctx.policy.login
    if not (rule.second_factor.required or enrolled):
        return False
    token = ctx.cookies.get(devices.cookie_name(ctx.organisation.slug))
    return not (rule.remember_device.enabled and devices.is_remembered(account, token, ctx.now))


def _enrolment_due(ctx: Context, account: Account) -> bool:
    since = ctx.policy.login.second_factor.enrolment_required_from
    if since is None or ctx.now.date() < since:
        return False
    return not account.factors.filter(created_at__date__gte=since).exists()


class Credentials(Step):
    name = "credentials"
    own_transactions = True   # the password hash must not hold SQLite's write lock: see submit

    def screen(self, ctx: Context, run: Run) -> Screen:
        policy, slug = ctx.policy, ctx.organisation.slug
        identifier = policy.login.identifier
        notices = []
        since = policy.login.second_factor.enrolment_required_from
        if since:   # the guide's "À partir du 11 octobre 2025" before the date, "Depuis le" after it
            code = "login.mfa_notice" if ctx.now.date() >= since else "login.mfa_notice_upcoming"
            notices.append(Notice.of(code, "info", date=since.strftime("%d/%m/%Y")))
        rule = policy.login.lockout
        hours = rule.duration.total_seconds() / 3600
        duration = (_("%(n)d hours") % {"n": hours}) if hours >= 1 and hours == int(hours) else \
            (_("%(n)d minutes") % {"n": rule.duration.total_seconds() // 60})
        return Screen(
            title=_("Sign in to your space"),
            notices=tuple(notices),
            fields=(
                Field("identifier", "email" if identifier.kind == "email" else "text",
                      identifier.label.get(ctx.language), autocomplete="username",
                      hint=identifier.help.get(ctx.language) if identifier.help else ""),
                Field("password", "password", _("Password"), autocomplete="current-password", max_length=1024),
            ),
            actions=(Action("sign_in", _("Next") if policy.login.second_factor.required else _("Sign in")),),
            paragraphs=(Notice.of("login.lockout_rule", failures=rule.max_failures, duration=duration).text,
                        *((Notice.of("login.lockout_escalates").text,) if rule.escalate else ())),
            links=(
                # "S'identifier avec FranceConnect" and other upstreams: URLs served by guichet.oidc.
                *(Link(upstream.label.get(ctx.language), f"/o/{slug}/federation/{name}/start")
                  for name, upstream in policy.login.enabled_upstreams().items()),
                Link(_("Forgot your password?"), journey_path(slug, "recovery")),
                Link(_("Create my online account"), journey_path(slug, "registration")),
            ),
        )

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        if not ratelimit.hit(f"login:ip:{ctx.ip}", limit=PER_IP_LIMIT, window=PER_IP_WINDOW, now=ctx.now).allowed:
            return Stay((Notice.of("request.rate_limited", "error"),))
        kind = ctx.policy.login.identifier.kind
        account, enrolled = lookup.find_with_factors(ctx.organisation, kind, data["identifier"])
        key = lockout_key(ctx, account) if account else \
            lockout.identity_key("identifier", lookup.normalise_identifier(kind, data["identifier"]))
        right = lookup.password_matches(account, data["password"])   # always one hash, locked or not
        with transaction.atomic():   # own_transactions: the hash above held no lock
            # The lock is read after the hash, under the counter's row lock: failures of requests that ran
            # alongside this one (a burst of guesses) count before a right password can succeed, so a burst gets
            # no more successes than the rule allows.
            throttle = lockout.status(ctx.organisation, key, for_update=True)
            if throttle.locked(ctx.now) or not right:
                return _fail(ctx, account, key, "locked" if throttle.locked(ctx.now) else "credentials")
        assert account is not None
        if account.state != Account.State.ACTIVE:
            return Stay((Notice.of("login.not_activated", "warning"),))
        if account.must_change_password and account.password_expires_at and ctx.now > account.password_expires_at:
            return Stay((Notice.of("login.temporary_password_expired", "warning"),))
        # What the later steps need to know is decided here, from the account just read: no step
        # reads the account again only to find out whether it applies.
        # The failures counted so far are cleared only once the whole sign-in succeeds (finish): cleared at the
        # password, they would let a stolen password buy a fresh allowance of second-factor guesses each time
        # it is typed again.
        run.state.update(account=str(account.pk), enrol=_enrolment_due(ctx, account),
                         second_factor=_second_factor_due(ctx, account, enrolled), method="password",
                         must_change_password=account.must_change_password,
                         contacts_unconfirmed=account.contact_confirmed_at is None,
                         lockout_key=key, failures_recorded=throttle.recorded)
        run.account_read = account   # when nothing else is due, the session opens from it: no second read
        return Next()


def _fail(ctx: Context, account: Account | None, key: str, reason: str) -> Stay:
    count_failure(ctx, account, key, reason=reason, locked=reason == "locked")
    return Stay((Notice.of("login.invalid", "error"),))


def code_destination(ctx: Context, account: Account) -> codes.Destination | None:
    """Where a sign-in code goes, among the policy's channels: to the SMS factor's own number when the member
    chose text messages, else to the email address, else (a member without email who enrolled an app or a
    passkey and lost it) to the mobile number on record; None when the channels leave nowhere to send it."""
    channels = ctx.policy.login.second_factor.channels
    sms_allowed = "sms" in channels
    sms = account.factors.filter(kind=Factor.Kind.SMS).first() if sms_allowed else None
    if sms is not None and (sms.mobile or account.mobile):
        return codes.Destination("sms", sms.mobile or account.mobile)
    if "email" in channels and account.email:
        return codes.Destination("email", account.email)
    if sms_allowed and account.mobile:
        return codes.Destination("sms", account.mobile)
    return None


class SecondFactor(Step):
    name = "second_factor"

    def applies(self, ctx: Context, run: Run) -> bool:
        return bool(run.state.get("second_factor")) and not run.state.get("enrol")

    def _totp(self, run: Run) -> Factor | None:
        if run.state.get("use_code"):
            return None
        return Factor.objects.filter(account_id=run.state["account"], kind=Factor.Kind.TOTP).first()

    def _passkey(self, ctx: Context, run: Run) -> bool:
        """Passkeys first when the member has one (the strongest factor), unless the policy stopped them."""
        return ctx.policy.login.second_factor.passkeys and not run.state.get("use_code") and \
            Passkey.objects.filter(account_id=run.state["account"]).exists()

    def enter(self, ctx: Context, run: Run) -> tuple[Notice, ...]:
        if self._passkey(ctx, run):
            run.state["passkey_challenge"] = passkeys.new_challenge()
            return ()
        if self._totp(run):
            return ()
        account = account_of(run)
        to = code_destination(ctx, account)
        if to is None:
            return ()   # the screen says why no code comes
        return (codes.send(ctx, run, purpose="login", rule=ctx.policy.login.second_factor.code, to=to,
                           account=account),)

    def screen(self, ctx: Context, run: Run) -> Screen:
        rule = ctx.policy.login
        fields = []
        notices: tuple[Notice, ...] = ()
        account = account_of(run)
        can_send = code_destination(ctx, account) is not None
        # "Receive a code instead" only when a code can go somewhere (a member without email may have no
        # mobile either); the engine never runs an action its screen does not show.
        use_code = (Action("use_code", _("Receive a code instead"), True),) if can_send else ()
        if self._passkey(ctx, run):
            fields.append(passkey_screens.field(passkeys.authentication_options(
                account, challenge=run.state["passkey_challenge"])))
            notices = (Notice.of("passkey.sign_in_intro" if use_code else "passkey.sign_in_intro_no_code"),)
            actions_ = (Action("verify", _("Use my passkey")), *use_code)
        elif self._totp(run):
            fields.append(Field("code", "code", _("Code shown by your authenticator app"), length=6,
                                autocomplete="one-time-code"))
            actions_ = (Action("verify", _("Next")), *use_code)
        elif not can_send:
            return Screen(title=_("Verify your identity"), notices=(Notice.of("mfa.no_channel", "error"),))
        else:
            fields.append(Field("code", "code", _("Authentication code"), length=rule.second_factor.code.length,
                                autocomplete="one-time-code"))
            actions_ = (Action("verify", _("Next")), Action("resend", _("Resend it"), True))
        fields.extend(remember_field(ctx))
        return Screen(title=_("Verify your identity"), fields=tuple(fields), actions=actions_, notices=notices)

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = account_of(run)
        rule = ctx.policy.login.second_factor.code
        if action == "use_code":
            run.state["use_code"] = True
            return Stay(self.enter(ctx, run))
        if action == "resend":
            to = code_destination(ctx, account)
            assert to is not None   # "resend" is shown only when there is somewhere to send
            return codes.resend(ctx, run, purpose="login", rule=rule, to=to, account=account)
        factor = self._totp(run)
        if self._passkey(ctx, run):
            # "Receive a code instead" is on the screen only when a code can go somewhere.
            other_way = code_destination(ctx, account) is not None
            if (unanswered := passkey_screens.unanswered(data["credential"], other_way=other_way)) is not None:
                return unanswered
            if passkeys.authenticate(account, data["credential"], challenge=run.state["passkey_challenge"],
                                     now=ctx.now) is None:
                return wrong_second_factor(ctx, account, passkey_screens.refused(other_way=other_way))
            run.state.pop("passkey_challenge")
            run.state["method"] = "password+passkey"
        elif factor is not None:
            if not totp.verify(factor, data["code"], ctx.now):
                return wrong_second_factor(ctx, account, Stay(field_errors={"code": (
                    Notice.of("code.wrong_app", "error"),)}))
            run.state["method"] = "password+totp"
        else:
            problem = codes.check(ctx, run, purpose="login", code=data["code"])
            if problem is not None:
                return wrong_second_factor(ctx, account, problem)
            run.state["method"] = "password+code"
        run.state["remember"] = data.get("remember") == "on"
        return Next()


def finish(ctx: Context, run: Run) -> SignedIn:
    # Nothing to clear when no failure was on record at the password and no second-factor step could add one.
    key = run.state.get("lockout_key")
    if key and (run.state.get("failures_recorded", True) or run.state.get("second_factor") or run.state.get("enrol")):
        lockout.record_success(ctx.organisation, key)
    days = ctx.policy.login.remember_device.days if run.state.get("remember") else 0
    read = run.account_read if run.account_read and str(run.account_read.pk) == run.state["account"] else None
    return SignedIn(account_id=run.state["account"], method=run.state.get("method", "password"),
                    remember_device_days=days, account=read)


LOGIN = Journey(name="login",
                steps=(Credentials(), EnrolChoose(), LoginEnrolConfirm(), SecondFactor(), *FIRST_LOGIN_STEPS),
                finish=finish, lifetime=timedelta(minutes=20))
