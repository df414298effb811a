"""Registration, first screen: the form matched against the member registry, or (for organisations
that create accounts themselves) the page explaining that there is nothing to fill in.

Enumeration safety: whatever does not match (unknown member, wrong name, wrong email, wrong IBAN),
the answer is the same code on the same screen, and exceeded rate limits give one generic answer.
Only errors that depend on what was typed alone (a number's format, two emails that differ, a weak
password) are told field by field: they reveal nothing about the registry.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext as _

from guichet.identities import actions
from guichet.journeys import passwords
from guichet.journeys.engine import Context, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.registration_questions import askable
from guichet.journeys.screens import Action, Field, Link, Next, Notice, Screen, Stay, Transition
from guichet.registry.matching import (
    email_key,
    iban_suffix,
    member_number_is_valid,
    name_key,
    normalise_member_number,
)
from guichet.registry.models import MemberRecord
from guichet.security import ratelimit

# Coarse guards against scripts trying many identities; a member with typos stays far below them.
PER_IP_LIMIT, PER_IP_WINDOW = 20, timedelta(hours=1)
PER_MEMBER_LIMIT, PER_MEMBER_WINDOW = 5, timedelta(hours=1)


def support_paragraphs(ctx: Context) -> tuple[str, ...]:
    """The support contacts, for screens that JSON clients show too (pages also have them in the footer)."""
    support = ctx.policy.support
    phone = support.phone or ""
    if phone and support.hours:
        phone = f"{phone} ({support.hours.get(ctx.language)})"
    contacts = [c for c in (support.email, phone, support.url) if c]
    return (Notice.of("registration.support", contacts=", ".join(contacts)).text,) if contacts else ()


class Provisioned(Step):
    """Organisations that create every account themselves: nothing to fill in, the password comes by post."""

    name = "provisioned"

    def applies(self, ctx: Context, run: Run) -> bool:
        return ctx.policy.registration.mode == "provisioned"

    def screen(self, ctx: Context, run: Run) -> Screen:
        slug = ctx.organisation.slug
        channel = ctx.policy.registration.temporary_password_channel
        return Screen(title=_("Create my online account"),
                      notices=(Notice.of(f"registration.provisioned_{channel}"),),
                      paragraphs=(Notice.of("registration.provisioned_lost").text, *support_paragraphs(ctx)),
                      links=(Link(_("Sign in"), journey_path(slug, "login")),
                             Link(_("Forgot your password?"), journey_path(slug, "recovery"))))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        return Stay()   # the screen has no button: nothing is ever submitted


class Identity(Step):
    name = "identity"

    def applies(self, ctx: Context, run: Run) -> bool:
        return ctx.policy.registration.mode == "self_service"

    def screen(self, ctx: Context, run: Run) -> Screen:
        slug = ctx.organisation.slug
        return Screen(title=_("Create my online account"), notices=(Notice.of("registration.intro"),),
                      fields=_fields(ctx), actions=(Action("register", _("Register")),),
                      paragraphs=support_paragraphs(ctx),
                      links=(Link(_("I already have an account: sign in"), journey_path(slug, "login")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        problem = _typing_problems(ctx, data)
        if problem is not None:
            return problem
        if _rate_limited(ctx, data):
            actions.record_registration_failure(ctx.organisation, ip=ctx.ip, reason="rate_limited")
            return Stay((Notice.of("request.rate_limited", "error"),))
        member = matching_member(ctx, data)
        if member is None:
            actions.record_registration_failure(ctx.organisation, ip=ctx.ip, reason="no_match")
            return Stay((Notice.of("registration.no_match", "error"),))
        if ctx.policy.registration.questions and ctx.policy.registration.questions_asked and not askable(ctx, member):
            # The record holds no answer to any question: this member cannot be proven online.
            actions.record_registration_failure(ctx.organisation, ip=ctx.ip, reason="no_facts", member_id=member.pk)
            return Stay((Notice.of("registration.questions_failed", "error"),), restart=True)
        run.state.update(member=member.pk, email=data["email"])
        if ctx.policy.registration.password == "in_form":
            # Kept as a hash until the account is created (after the questions, if any): never in clear.
            run.state["password_hash"] = make_password(data[passwords.NEW])
        return Next()


def _fields(ctx: Context) -> tuple[Field, ...]:
    rule, number, language = ctx.policy.registration, ctx.policy.member_number, ctx.language
    fields = []
    if "member_number" in rule.match:
        fields.append(Field("member_number", "text", number.label.get(language), max_length=32, autocomplete="off",
                            hint=number.help.get(language) if number.help else ""))
    if "first_name" in rule.match:
        fields.append(Field("first_name", "text", _("First name"), autocomplete="given-name", max_length=150))
    if "last_name" in rule.match:
        fields.append(Field("last_name", "text", _("Last name"), autocomplete="family-name", max_length=150))
    if "birth_date" in rule.match:
        fields.append(Field("birth_date", "date", _("Date of birth"), autocomplete="bday",
                            hint=_("For example 31/12/1960")))
    if "iban_suffix" in rule.match:
        label = _("Last %(n)d characters of your IBAN") % {"n": rule.iban_suffix_length}
        fields.append(Field("iban_suffix", "text", label, autocomplete="off", max_length=42,
                            hint=_("The IBAN of the bank details (RIB) you gave us. If you never gave us your "
                                   "bank details, contact us.")))
    fields.append(Field("email", "email", _("Email address"), autocomplete="email",
                        hint=_("We will send the emails about your registration to this address.")))
    if rule.confirm_email:
        fields.append(Field("email_confirmation", "email", _("Confirm the email address"), autocomplete="email"))
    if rule.password == "in_form":
        fields.extend(passwords.fields(ctx, _("Choose your password")))
    return tuple(fields)


def _typing_problems(ctx: Context, data: dict[str, str]) -> Stay | None:
    """Errors seen from what was typed alone (no registry look-up), all at once."""
    rule = ctx.policy.registration
    errors: dict[str, tuple[Notice, ...]] = {}
    if "member_number" in rule.match and not member_number_is_valid(ctx.policy.member_number, data["member_number"]):
        errors["member_number"] = (Notice.of("registration.member_number_invalid", "error"),)
    if "iban_suffix" in rule.match and not _iban_typed(data["iban_suffix"], rule.iban_suffix_length):
        errors["iban_suffix"] = (Notice.of("registration.iban_invalid", "error", length=rule.iban_suffix_length),)
    if rule.confirm_email and email_key(data["email"]) != email_key(data["email_confirmation"]):
        errors["email_confirmation"] = (Notice.of("registration.email_mismatch", "error"),)
    if rule.password == "in_form":
        weak = passwords.problems(ctx, data, user_inputs=[data.get(k, "") for k in (
            "member_number", "first_name", "last_name", "email")])
        if weak is not None:
            errors.update(weak.field_errors)
    return Stay(field_errors=errors) if errors else None


def _iban_typed(text: str, length: int) -> bool:
    compact = "".join(text.split())
    return len(compact) >= length and compact.isalnum() and compact.isascii()


def _rate_limited(ctx: Context, data: dict[str, str]) -> bool:
    # Both counters count every attempt, so each one is always counted (no short-circuit hint).
    by_ip = ratelimit.hit(f"registration:ip:{ctx.ip}", limit=PER_IP_LIMIT, window=PER_IP_WINDOW, now=ctx.now)
    who = normalise_member_number(data["member_number"]) if "member_number" in data else email_key(data["email"])
    by_member = ratelimit.hit(f"registration:member:{ctx.organisation.pk}:{who}", limit=PER_MEMBER_LIMIT,
                              window=PER_MEMBER_WINDOW, now=ctx.now)
    return not (by_ip.allowed and by_member.allowed)


def matching_member(ctx: Context, data: dict[str, str]) -> MemberRecord | None:
    """The one registry record matching every field the policy names, or None.

    Names compare by their folded key (accents, case, hyphens, apostrophes), emails by their key, the
    birth date exactly and the IBAN by its last characters. An empty name never matches anything, nor does
    a record no longer in the registry.
    """
    rule = ctx.policy.registration
    filters: dict[str, object] = {}
    if "member_number" in rule.match:
        filters["member_number"] = normalise_member_number(data["member_number"])
    for name in ("first_name", "last_name"):
        if name in rule.match:
            filters[f"{name}_key"] = name_key(data[name])
    if "birth_date" in rule.match:
        filters["birth_date"] = date.fromisoformat(data["birth_date"])
    if "email" in rule.match:
        filters["email_key"] = email_key(data["email"])
    if "iban_suffix" in rule.match:
        filters["iban_suffix__endswith"] = iban_suffix(data["iban_suffix"], rule.iban_suffix_length)
    if any(value == "" for value in filters.values()):
        return None
    # A retired record (missing from a complete import) proves nothing: the same answer as for nobody.
    found = list(MemberRecord.objects.in_registry().filter(organisation=ctx.organisation, **filters)[:2])
    return found[0] if len(found) == 1 else None   # two records: not a proof of either
