"""Steps of the sign-in journey that run once the password (and second factor) are right:
personalising a temporary password, then (per policy) confirming contact details with a code
sent to the email address (farm guide, "1ère connexion"). Appended to LOGIN.steps in login.py.

```mermaid
stateDiagram-v2
    [*] --> change_temporary_password: password is temporary
    change_temporary_password --> [*]: Abandon (not signed in)
    change_temporary_password --> confirm_contacts: own password set, contacts to confirm
    change_temporary_password --> [*]: own password set (signed in)
    [*] --> confirm_contacts: contacts never confirmed
    confirm_contacts --> confirm_email_code: details valid (code sent to the email)
    confirm_email_code --> confirm_email_code: wrong code / resend
    confirm_email_code --> contacts_verified: right code (details saved)
    contacts_verified --> [*]: signed in
```
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys import codes, passwords
from guichet.journeys.engine import Context, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.screens import (
    Action,
    Done,
    Field,
    Goto,
    Link,
    Next,
    Notice,
    Screen,
    Stay,
    Transition,
)
from guichet.policy.model import ContactConfirmation
from guichet.registry.csv_columns import Rejected, phone_number

PHONE_LABELS = {"mobile": gettext_lazy("Mobile phone number"), "landline": gettext_lazy("Landline phone number"),
                "fax": gettext_lazy("Fax number")}


def _account(run: Run) -> Account | None:
    account_id = run.state.get("account")
    return Account.objects.select_related("organisation", "member").filter(pk=account_id).first() \
        if account_id else None


class ChangeTemporaryPassword(Step):
    name = "change_temporary_password"

    def applies(self, ctx: Context, run: Run) -> bool:
        return bool(run.state.get("must_change_password"))   # recorded by the credentials step

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title=_("Changing your password"), notices=(Notice.of("first_login.temporary", "warning"),),
                      fields=passwords.fields(ctx, _("Your new password")),
                      actions=(Action("change", _("Next")), Action("abandon", _("Abandon"), skip_validation=True)))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = _account(run)
        assert account is not None
        if action == "abandon":
            return Done(Screen(title=_("You are not signed in"), notices=(Notice.of("first_login.abandoned"),),
                               links=(Link(_("Go to the sign-in page"), journey_path(ctx.organisation.slug,
                                                                                   "login")),)))
        member = account.member
        problem = passwords.problems(ctx, data, [account.identifier, account.email]
                                     + ([member.first_name, member.last_name] if member else []))
        if problem is not None:
            return problem
        if account.check_password(data[passwords.NEW]):
            return Stay(field_errors={passwords.NEW: (Notice.of("password.same_as_current", "error"),)})
        actions.set_password(account, data[passwords.NEW], now=ctx.now, ip=ctx.ip, reason="first_login")
        actions.notify_password_changed(account, now=ctx.now, language=ctx.language)
        return Next((Notice.of("password.changed", "success"),))


def _rule(ctx: Context) -> ContactConfirmation | None:
    return ctx.policy.first_login.confirm_contact_details


def _phone(value: str, *, mobile: bool) -> str | None:
    """The number in E.164 form, '' for none, None when it is not a valid number (of the right kind)."""
    if not value.strip():
        return ""
    try:
        return phone_number(value, mobile=mobile)
    except Rejected:
        return None


class ConfirmContacts(Step):
    name = "confirm_contacts"

    def applies(self, ctx: Context, run: Run) -> bool:
        return _rule(ctx) is not None and bool(run.state.get("contacts_unconfirmed"))

    def screen(self, ctx: Context, run: Run) -> Screen:
        account = _account(run)
        rule = _rule(ctx)
        assert account is not None and rule is not None
        pending = run.state.get("contacts", {})
        fields = [Field("email", "email", _("Your email address"), value=pending.get("email", account.email),
                        autocomplete="email")]
        for name in rule.optional_fields:
            fields.append(Field(name, "tel", str(PHONE_LABELS[name]), required=False, max_length=32,
                                value=pending.get(name, getattr(account, name)),
                                autocomplete="tel" if name != "fax" else "off"))
        return Screen(title=_("Confirming your contact details"), notices=(Notice.of("contact.confirm_intro"),),
                      fields=tuple(fields), actions=(Action("confirm", _("I confirm my contact details")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = _account(run)
        rule = _rule(ctx)
        assert account is not None and rule is not None
        contacts = {"email": data["email"]}
        errors: dict[str, tuple[Notice, ...]] = {}
        for name in rule.optional_fields:
            number = _phone(data.get(name, ""), mobile=name == "mobile")
            if number is None:
                errors[name] = (Notice.of("field.phone_invalid", "error"),)
            contacts[name] = number or ""
        if ctx.policy.login.identifier.kind == "email" and Account.objects.filter(
                organisation=ctx.organisation, identifier=data["email"].lower()).exclude(pk=account.pk).exists():
            errors["email"] = (Notice.of("contact.email_taken", "error"),)
        if errors:
            return Stay(field_errors=errors)
        run.state["contacts"] = contacts
        return Goto("confirm_email_code")


class ConfirmEmailCode(Step):
    name = "confirm_email_code"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from confirm_contacts

    def _destination(self, run: Run) -> codes.Destination:
        return codes.Destination("email", run.state["contacts"]["email"])

    def enter(self, ctx: Context, run: Run) -> tuple[Notice, ...]:
        rule = _rule(ctx)
        assert rule is not None
        return (codes.send(ctx, run, purpose="contact", rule=rule.code, to=self._destination(run),
                           account=_account(run), template="contact_code"),)

    def screen(self, ctx: Context, run: Run) -> Screen:
        rule = _rule(ctx)
        assert rule is not None
        return Screen(title=_("Confirming your email address"),
                      paragraphs=(_("A confirmation code has been sent to the address %(email)s.")
                                  % {"email": run.state["contacts"]["email"]},),
                      fields=(Field("code", "code", _("Type the confirmation code"), length=rule.code.length,
                                    autocomplete="one-time-code"),),
                      actions=(Action("verify", _("Confirm")), Action("resend", _("Send a new code"), True)))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        rule = _rule(ctx)
        account = _account(run)
        assert rule is not None and account is not None
        if action == "resend":
            return codes.resend(ctx, run, purpose="contact", rule=rule.code, to=self._destination(run),
                                account=account, template="contact_code")
        problem = codes.check(ctx, run, purpose="contact", code=data["code"])
        if problem is not None:
            return problem
        contacts = run.state["contacts"]
        actions.confirm_contacts(account, email=contacts["email"], now=ctx.now, ip=ctx.ip,
                                 **{name: contacts[name] for name in rule.optional_fields})
        return Goto("contacts_verified")


class ContactsVerified(Step):
    name = "contacts_verified"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from confirm_email_code

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title=_("Confirmation"), notices=(Notice.of("contact.email_verified", "success"),),
                      actions=(Action("continue", _("Go to my space")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        return Next()


FIRST_LOGIN_STEPS: tuple[Step, ...] = (ChangeTemporaryPassword(), ConfirmContacts(), ConfirmEmailCode(),
                                       ContactsVerified())
