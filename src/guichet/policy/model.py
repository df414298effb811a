"""The organisation policy: every option a journey reads, as typed, validated data.

A policy file only chooses options; journeys are code. Numbers come from the organisations'
published guides (see policies/presets/*.yaml, each value commented with its source).
"""

from __future__ import annotations

import email.policy
from datetime import date, timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from guichet.policy.types import (
    MAX_DURATION,
    ONE_ADDRESS,
    ONE_LINE,
    SECOND_FACTOR_MEANS,
    Colour,
    Duration,
    Refusal,
    Strict,
    Text,
    contrast_ratio,
    format_duration,
)

Channel = Literal["email", "sms", "postal"]
IdentifierKind = Literal["email", "member_number", "finess"]
MatchField = Literal["member_number", "first_name", "last_name", "birth_date", "email", "iban_suffix"]
Strength = Literal["weak", "medium", "strong"]


class Theme(Strict):
    primary_colour: Colour = "#00527a"
    logo: str | None = Field(None, description="Path of an image under the policy folder, or None for the name")

    @field_validator("primary_colour")
    @classmethod
    def _readable(cls, colour: str) -> str:
        # White text is drawn on the primary colour (buttons, header): WCAG 2.1 AA needs 4.5:1.
        ratio = contrast_ratio(colour, "#ffffff")
        if ratio < 4.5:
            raise ValueError(f"white text on {colour} has a contrast of {ratio:.2f}:1; WCAG AA needs 4.5:1")
        return colour


class Support(Strict):
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    hours: Text | None = None


class Identifier(Strict):
    """What a member types to sign in."""

    kind: IdentifierKind
    label: Text
    pattern: str | None = Field(None, description="Regular expression the identifier must match (after trimming)")
    help: Text | None = Field(None, description="Where to find it (the 'Où trouver mon identifiant ?' link)")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        import re

        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"not a valid regular expression: {error}") from None
        return pattern


class Code(Strict):
    """A one-time code sent to the member."""

    length: int = Field(6, ge=4, le=10)
    lifetime: Duration = timedelta(minutes=10)
    max_attempts: int = Field(5, ge=1, le=10)
    resend_cooldown: Duration = timedelta(seconds=30)
    max_sends: int = Field(5, ge=1, le=20, description="Codes sent for one purpose before the member must wait")


class Link(Strict):
    lifetime: Duration = timedelta(hours=24)


class PasswordRules(Strict):
    min_length: int = Field(12, ge=8, le=64)
    max_length: int = Field(128, ge=8, le=1024)
    min_classes: int = Field(3, ge=1, le=4, description="Of: lower case, upper case, digits, special characters")
    min_strength: Strength = "medium"
    refuse_common: bool = Field(True, description="Refuse common and breached passwords (French and English lists)")

    @model_validator(mode="after")
    def _lengths(self) -> PasswordRules:
        if self.max_length < self.min_length:
            raise ValueError("max_length is shorter than min_length")
        return self


class Lockout(Strict):
    max_failures: int = Field(5, ge=1, le=100)
    duration: Duration = timedelta(minutes=15)
    escalate: bool = Field(True, description="After a first lock, each further failure locks again, twice as long")
    max_duration: Duration = timedelta(hours=24)
    forget_after: Duration = Field(timedelta(hours=24), description=(
        "Failures are forgotten once this long has passed since the last one and since the end of any lock"))
    notify_member: bool = True
    spare_remembered_devices: bool = Field(True, description=(
        "A device the member had remembered keeps its own failure count: a stranger's failures lock the account "
        "everywhere else, not there"))

    @model_validator(mode="after")
    def _longest_lock_at_least_the_first(self) -> Lockout:
        if self.max_duration < self.duration:
            raise Refusal(MAX_DURATION, longest=format_duration(self.max_duration),
                          first=format_duration(self.duration))
        return self

    @model_validator(mode="after")
    def _forget_slowly(self) -> Lockout:
        # Forgetting sooner than a lock lasts, or within minutes, would let guesses go on for ever unlocked.
        floor = max(self.duration, timedelta(hours=1))
        if self.forget_after < floor:
            raise ValueError(f"forget_after must be at least {floor} (the lock's duration, and 1 hour at least)")
        return self


class SecondFactor(Strict):
    required: bool = True
    channels: list[Literal["email", "sms"]] = ["email"]
    code: Code = Code()
    totp: bool = True
    passkeys: bool = True
    enrolment_required_from: date | None = Field(
        None, description="From this date every member must (re-)enrol a second factor at next sign-in"
    )

    @model_validator(mode="after")
    def _some_means(self) -> SecondFactor:
        if self.required and not (self.channels or self.totp or self.passkeys):
            raise Refusal(SECOND_FACTOR_MEANS)
        return self


class RememberDevice(Strict):
    enabled: bool = True
    days: int = Field(30, ge=1, le=365)


UpstreamClaim = Literal["given_name", "family_name", "birthdate", "gender", "birthplace"]


class Upstream(Strict):
    """An OpenID Connect provider that vouches for members' identity (FranceConnect, or another one).

    The member is recognised when the identity it returns matches one registry record; the client
    secret never sits in the policy file, only the name of the environment variable holding it.
    """

    kind: Literal["franceconnect", "oidc"] = "oidc"
    label: Text = Field(description="The button's text")
    issuer: str = Field(description="Issuer URL; its /.well-known/openid-configuration is read")
    client_id: str = ""
    client_secret_env: str = Field("", pattern=r"^$|^[A-Z][A-Z0-9_]*$",
                                   description="Name of the environment variable holding the client secret")
    scopes: list[str] = ["openid", "given_name", "family_name", "birthdate"]
    acr_values: str | None = Field(None, description="Level asked for and required in the ID token (eidas1)")
    match: list[UpstreamClaim] = Field(
        ["given_name", "family_name", "birthdate"],
        description="Claims compared with the registry record; gender and birthplace with its facts of that name",
    )
    categories: list[str] = Field(
        [], description="Registry categories of the members who may sign in this way (empty: every member); the "
                        "farm's FranceConnect is for individuals only")
    end_session: bool = Field(
        True, description="When a member who signed in through this provider signs out, end their session at the "
                          "provider too (RP-initiated logout, if its discovery document has an end_session_endpoint); "
                          "FranceConnect requires it",
    )
    enabled: bool = False

    @field_validator("issuer")
    @classmethod
    def _https(cls, issuer: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(issuer)
        # Identity assertions must not travel in clear; a loopback issuer is a local test provider.
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")):
            raise ValueError("the issuer must be an https:// URL")
        return issuer.rstrip("/")

    @model_validator(mode="after")
    def _usable(self) -> Upstream:
        if self.enabled and not (self.client_id and self.client_secret_env):
            raise ValueError("an enabled provider needs client_id and client_secret_env")
        if "openid" not in self.scopes:
            raise ValueError("scopes must include openid")
        if not {"family_name", "birthdate"} <= set(self.match):
            raise ValueError("match must include at least family_name and birthdate")
        return self


class Login(Strict):
    identifier: Identifier
    second_factor: SecondFactor = SecondFactor()
    remember_device: RememberDevice = RememberDevice()
    lockout: Lockout = Lockout()
    federation: dict[str, Upstream] = Field(
        {}, description="OpenID Connect providers members may sign in with (FranceConnect...), by name (in URLs)"
    )

    @field_validator("federation")
    @classmethod
    def _provider_names(cls, federation: dict[str, Upstream]) -> dict[str, Upstream]:
        import re

        for name in federation:
            if not re.fullmatch(r"[a-z][a-z0-9-]{1,30}", name):
                raise ValueError(f"provider name {name!r}: lower-case letters, digits and hyphens (2 to 31)")
        return federation

    def enabled_upstreams(self) -> dict[str, Upstream]:
        return {name: upstream for name, upstream in self.federation.items() if upstream.enabled}


class Question(Strict):
    """A security question whose answer comes from the member's registry record."""

    fact: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Name of the registry fact holding the answer")
    label: Text
    answer: Literal["text", "amount", "select"] = "text"


class UsagePolicy(Strict):
    version: str
    title: Text
    text: Text


class AccountUpdate(Strict):
    """"Update my account": an active account without an email address gets one, with a new password, only
    once its owner confirmed by a channel already on record: a code by text message to the account's mobile
    (the sign-in code's rule, `login.second_factor.code`), else a code by post to the registry's address."""

    letter_code_lifetime: Duration = Field(timedelta(days=30), description=(
        "How long the code of a confirmation letter (and the emailed link that goes with it) can be used: "
        "time for the letter to arrive"))
    max_letters: int = Field(3, ge=1, le=10, description=(
        "Confirmation letters at most per account in each period of letter_code_lifetime"))


class Registration(Strict):
    mode: Literal["self_service", "provisioned"] = "self_service"
    match: list[MatchField] = ["member_number", "last_name", "birth_date"]
    iban_suffix_length: int = Field(5, ge=2, le=10)
    confirm_email: bool = True
    questions: list[Question] = []
    questions_asked: int = Field(2, ge=0, le=5)
    question_attempts: int = Field(3, ge=1, le=10)
    usage_policy: UsagePolicy | None = None
    password: Literal["after_link", "in_form"] = "after_link"
    link: Link = Link()
    temporary_password_channel: Channel = Field("postal", description="provisioned mode: how the first password goes")
    account_update: AccountUpdate = AccountUpdate()

    @model_validator(mode="after")
    def _enough_questions(self) -> Registration:
        if self.questions and self.questions_asked > len(self.questions):
            raise ValueError(f"questions_asked is {self.questions_asked} but only {len(self.questions)} questions")
        return self


class NeverConnected(Strict):
    """Members who never signed in prove themselves by a question chosen by their registry category."""

    questions_by_category: dict[str, list[Question]]
    fallback: Literal["postal"] = "postal"
    announce_letter_by: list[Literal["email", "sms"]] = ["sms", "email"]
    letter_every: Duration = Field(timedelta(days=7), description=(
        "At most one letter with a temporary password per account this often: while one sent more recently "
        "exists, a new request changes nothing and sends nothing (each letter would kill the one in the post)"))

    @model_validator(mode="after")
    def _letters_take_days(self) -> NeverConnected:
        # A letter takes days to arrive: a shorter period would let anyone kill it again while it is in the post.
        if self.letter_every < timedelta(days=1):
            raise ValueError("letter_every must be at least 1d (a letter takes days to arrive)")
        return self


class TemporaryPassword(Strict):
    length: int = Field(12, ge=10, le=32)
    lifetime: Duration = timedelta(days=30)


class Recovery(Strict):
    style: Literal["link", "link_and_code", "code_then_temporary_password"] = "link"
    ask: list[Literal["identifier", "email"]] = ["identifier"]
    captcha: bool = False
    link: Link = Link()
    code: Code = Code()
    channels: list[Literal["email", "sms"]] = ["email"]
    never_connected: NeverConnected | None = None
    temporary_password: TemporaryPassword = TemporaryPassword()
    update_account_url: str | None = Field(None, description="Where members with no email on record are sent")


class ContactConfirmation(Strict):
    code: Code = Code(length=4, lifetime=timedelta(minutes=30))
    optional_fields: list[Literal["mobile", "landline", "fax"]] = ["mobile", "landline", "fax"]


class FirstLogin(Strict):
    confirm_contact_details: ContactConfirmation | None = None


class Organisation(Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$")
    preset: Literal["pension-fund", "farm-social-security", "health-mutual"] | None = None
    name: Text
    short_name: Text | None = None
    member_number: Identifier = Field(description="The registry's member number (kind member_number or finess)")
    hosts: list[str] = Field([], description="Host names that serve this organisation (besides /o/<slug>/)")
    email_from: str | None = Field(None, description="Sender of the emails: 'Name <address@example.org>' or an address")
    theme: Theme = Theme()
    support: Support = Support()
    password: PasswordRules = PasswordRules()
    login: Login
    registration: Registration = Registration()
    recovery: Recovery = Recovery()
    first_login: FirstLogin = FirstLogin()
    security_advice: bool = Field(False, description="Show the 'Cybersécurité, restez vigilant' advice page")

    @field_validator("email_from")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        # Checked here, not when the first email fails: a line break would also let the file add headers.
        if value is None:
            return value
        if any(ord(character) < 32 or ord(character) == 127 for character in value):
            raise Refusal(ONE_LINE)
        header = email.policy.default.header_factory("From", value)
        addresses = header.addresses
        if header.defects or len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
            raise Refusal(ONE_ADDRESS)
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Organisation:
        if self.member_number.kind == "email":
            raise ValueError("member_number.kind must be member_number or finess")
        if self.registration.mode == "self_service" and not self.registration.match:
            raise ValueError("registration.match must name at least one registry field")
        if "member_number" not in self.registration.match and self.registration.mode == "self_service" \
                and self.login.identifier.kind != "email":
            raise ValueError("registration.match must include member_number when members sign in with it")
        return self

    def display_name(self, language: str) -> str:
        return (self.short_name or self.name).get(language)
