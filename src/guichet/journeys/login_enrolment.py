"""Enrolling a second factor: the member chooses a method (email or text-message code, authenticator app,
passkey), then confirms it. Used by the sign-in journey when the organisation requires enrolment from a date,
and by second_factor_enrolment.py when a signed-in member adds one from their space; both put the account in
`run.state["account"]` and set `run.state["enrol"]`. Either way the member is told of the new factor
(identities.actions.notify_factor_enrolled): whoever enrols may hold nothing more than a stolen password."""

from __future__ import annotations

from django.utils.translation import gettext as _

from guichet.identities import actions, passkeys, totp
from guichet.identities.models import Account, Factor, Passkey
from guichet.journeys import codes, passkey_screens
from guichet.journeys.engine import Context, Step
from guichet.journeys.models import Run
from guichet.journeys.screens import Action, Field, Goto, Link, Next, Notice, Screen, Stay, Transition
from guichet.journeys.second_factors import account_of, wrong_second_factor


class EnrolChoose(Step):
    name = "enrol_choose"

    def applies(self, ctx: Context, run: Run) -> bool:
        return bool(run.state.get("enrol"))

    def screen(self, ctx: Context, run: Run) -> Screen:
        rule = ctx.policy.login.second_factor
        account = account_of(run)
        choices = [("email", _("A code sent to my email address"))] if "email" in rule.channels and account.email \
            else []
        if "sms" in rule.channels:
            choices.append(("sms", _("A code sent by text message to my mobile phone")))
        if rule.totp:
            choices.append(("totp", _("An authenticator app on my phone")))
        if rule.passkeys:
            choices.append(("passkey", _("A passkey (fingerprint, face or security key on this device)")))
        fields = [Field("method", "choice", _("How do you want to confirm your identity?"), choices=tuple(choices),
                        value=choices[0][0] if choices else "")]
        if "sms" in rule.channels:
            fields.append(Field("mobile", "tel", _("Mobile phone number (only for text messages)"), required=False,
                                autocomplete="tel", max_length=32, value=account.mobile))
        return Screen(title=_("Set up two-step verification"), notices=(Notice.of("mfa.enrol_intro"),),
                      fields=tuple(fields), actions=(Action("choose", _("Next")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        method = data["method"]
        if method == "sms":
            from guichet.registry.csv_columns import Rejected, phone_number

            try:
                run.state["mobile"] = phone_number(data.get("mobile", ""), mobile=True)
            except Rejected:
                return Stay(field_errors={"mobile": (Notice.of("field.phone_invalid", "error"),)})
        if method == "totp":
            run.state["totp_seed"] = totp.seal(totp.new_seed())
        if method == "passkey":
            run.state["passkey_challenge"] = passkeys.new_challenge()
        run.state["method_chosen"] = method
        return Goto("enrol_confirm")


def remember_field(ctx: Context) -> tuple[Field, ...]:
    """"Remember this device", on the screen that ends a sign-in's second factor, when the policy allows it."""
    rule = ctx.policy.login.remember_device
    if not rule.enabled:
        return ()
    return (Field("remember", "checkbox", _("Remember this device for %(days)d days") % {"days": rule.days},
                  required=False),)


class EnrolConfirm(Step):
    name = "enrol_confirm"
    # At sign-in (not in the member's space, where they are signed in already) the confirming screen offers
    # to remember the device, as the second-factor screen it stands for does.
    offers_remember = False

    def _remember(self, ctx: Context) -> tuple[Field, ...]:
        return remember_field(ctx) if self.offers_remember else ()

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from enrol_choose

    def _destination(self, run: Run, account: Account) -> codes.Destination:
        if run.state["method_chosen"] == "sms":
            return codes.Destination("sms", run.state["mobile"])
        return codes.Destination("email", account.email)

    def enter(self, ctx: Context, run: Run) -> tuple[Notice, ...]:
        if run.state["method_chosen"] == "totp":
            return (Notice.of("mfa.totp_intro"),)
        if run.state["method_chosen"] == "passkey":
            return ()
        account = account_of(run)
        return (codes.send(ctx, run, purpose="enrol", rule=ctx.policy.login.second_factor.code,
                           to=self._destination(run, account), account=account),)

    def screen(self, ctx: Context, run: Run) -> Screen:
        if run.state["method_chosen"] == "passkey":
            return passkey_screens.enrol(ctx, account_of(run), challenge=run.state["passkey_challenge"])
        if run.state["method_chosen"] == "totp":
            seed = totp.unseal(run.state["totp_seed"])
            account = account_of(run)
            uri = totp.provisioning_uri(seed, account_name=account.email or account.identifier,
                                        issuer=ctx.policy.display_name(ctx.language))
            return Screen(title=_("Set up your authenticator app"),
                          paragraphs=(_("Key to type in your app: %(key)s") % {"key": " ".join(
                              seed[i:i + 4] for i in range(0, len(seed), 4))},),
                          links=(Link(_("Open in my authenticator app"), uri),),
                          fields=(Field("code", "code", _("Code shown by your app"), length=6,
                                        autocomplete="one-time-code"), *self._remember(ctx)),
                          actions=(Action("verify", _("Confirm")),))
        length = ctx.policy.login.second_factor.code.length
        return Screen(title=_("Verify your identity"),
                      fields=(Field("code", "code", _("Authentication code"), length=length,
                                    autocomplete="one-time-code"), *self._remember(ctx)),
                      actions=(Action("verify", _("Confirm")), Action("resend", _("Resend it"), True)))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = account_of(run)
        method = run.state["method_chosen"]
        if method == "passkey":
            return self._submit_passkey(ctx, run, account, data, action)
        if action == "resend" and method != "totp":
            return codes.resend(ctx, run, purpose="enrol", rule=ctx.policy.login.second_factor.code,
                                to=self._destination(run, account), account=account)
        mobile = run.state["mobile"] if method == "sms" else ""
        factor_mobile = _sms_number(account)   # read before a new SMS factor replaces it: told too
        if method == "totp":
            seed = totp.unseal(run.state["totp_seed"])
            step = totp.matching_step(seed, data["code"], ctx.now)
            if step is None:
                return wrong_second_factor(ctx, account, Stay(field_errors={"code": (
                    Notice.of("code.wrong_app", "error"),)}))
            # The step is kept as used: the code that confirmed the app cannot also sign in.
            actions.enrol_factor(account, "totp", now=ctx.now, secret=run.state.pop("totp_seed"),
                                 last_used_step=step, ip=ctx.ip)
        else:
            problem = codes.check(ctx, run, purpose="enrol", code=data["code"])
            if problem is not None:
                return wrong_second_factor(ctx, account, problem)
            # The number stays with the factor: the account's mobile, which recovery sends temporary
            # passwords to, is not replaced by a number that only a password (perhaps stolen) vouched for.
            actions.enrol_factor(account, method, now=ctx.now, mobile=mobile, ip=ctx.ip)
        actions.notify_factor_enrolled(account, method, now=ctx.now, ip=ctx.ip, mobile=mobile,
                                       factor_mobile=factor_mobile)
        run.state["method"] = f"password+{method}"
        run.state["remember"] = self.offers_remember and data.get("remember") == "on"
        return Next((Notice.of("mfa.enrolled", "success"),))

    def _submit_passkey(self, ctx: Context, run: Run, account: Account, data: dict[str, str],
                        action: str) -> Transition:
        if action == "other_method":
            return Goto("enrol_choose")
        # "Choose another method" is always on the enrolment screen.
        if (unanswered := passkey_screens.unanswered(data["credential"], other_way=True)) is not None:
            return unanswered
        new = passkeys.verify_registration(data["credential"], challenge=run.state["passkey_challenge"])
        if new is None or Passkey.objects.filter(credential_id=new.credential_id).exists():
            return wrong_second_factor(ctx, account, passkey_screens.refused(other_way=True))
        actions.enrol_passkey(account, new, now=ctx.now, ip=ctx.ip)
        actions.notify_factor_enrolled(account, "passkey", now=ctx.now, ip=ctx.ip,
                                       factor_mobile=_sms_number(account))
        run.state.pop("passkey_challenge")
        run.state["method"] = "password+passkey"
        return Next((Notice.of("mfa.enrolled", "success"),))


def _sms_number(account: Account) -> str:
    """The number of the account's SMS factor, if it has one."""
    return Factor.objects.filter(account=account, kind=Factor.Kind.SMS).values_list("mobile", flat=True).first() or ""


class LoginEnrolConfirm(EnrolConfirm):
    offers_remember = True
