"""The registration journey: a member proves who they are against the organisation's registry, then
finishes by email. The policy chooses the fields matched, the questions, the usage policy and whether
the password is chosen in the form or after the link; organisations that create accounts themselves
(`mode: provisioned`) get a page explaining that the password comes by post.

```mermaid
stateDiagram-v2
    [*] --> provisioned: mode provisioned (an explanation, no form)
    [*] --> identity: mode self_service
    identity --> identity: typing error / no match / rate limited (same answer whatever the cause)
    identity --> questions: registry matched, questions configured
    identity --> usage_policy: matched, no questions, a usage policy
    identity --> [*]: matched, nothing else (account pending, link emailed)
    questions --> questions: next question / wrong answer (attempts left)
    questions --> [*]: too many wrong answers (run ended, same count on restart)
    questions --> usage_policy
    questions --> [*]: no usage policy (account pending, link emailed)
    usage_policy --> [*]: accepted (account pending, link emailed)
    [*] --> set_password: link opened, password after_link
    [*] --> activate: link opened, password in_form
    [*] --> update_proof: update link opened (active account without email address, with a mobile)
    [*] --> update_account: update link opened (no mobile: the owner's code came by post)
    set_password --> [*]: password set, account active
    activate --> [*]: account active
    update_proof --> update_account: code sent by text message to the account's mobile
    update_account --> [*]: owner's code right: new password set, the proven address is the account's
```
A member who already has an account goes through the very same screens and confirmation; the
account's address is told by email instead (identities.actions.notify_already_registered). When their
active account has no address at all (the health mutual's "Update my account"), the typed address gets
a link instead, and the account changes only when it is used with a code sent to the owner on a channel
already on record, text message or letter (registration_update, which has its own diagram).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from guichet.identities import actions
from guichet.identities.lookup import normalise_identifier
from guichet.identities.models import Account
from guichet.journeys.engine import Context, Journey, LinkStart
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.registration_identity import Identity, Provisioned
from guichet.journeys.registration_link import Activate, SetPassword, confirmation, open_link, send_link
from guichet.journeys.registration_questions import Questions, UsagePolicy, member_of
from guichet.journeys.registration_update import (
    UpdateAccount,
    UpdateProof,
    needs_an_email,
    open_update_link,
    send_update_link,
)
from guichet.journeys.screens import Done, Screen


def finish(ctx: Context, run: Run) -> Done:
    member = member_of(ctx, run)
    if not member.in_registry:
        # Retired by a complete import while the member answered: it proves nothing any more. The same screen
        # as always (no enumeration), and nothing is created or sent.
        return Done(confirmation(ctx))
    email = run.state["email"]
    password_hash = run.state.pop("password_hash", "")
    kind = ctx.policy.login.identifier.kind
    identifier = normalise_identifier(kind, email if kind == "email" else member.member_number)
    accounts = Account.objects.filter(organisation=ctx.organisation)
    existing = accounts.filter(member=member).exclude(state=Account.State.PENDING).first() or \
        accounts.filter(identifier=identifier).exclude(member=member).first()
    if existing is not None and needs_an_email(existing, member.pk):
        send_update_link(ctx, existing, email)
        return Done(confirmation(ctx))
    if existing is not None:
        slug = ctx.organisation.slug
        actions.notify_already_registered(existing, language=ctx.language, ip=ctx.ip,
                                          sign_in_url=ctx.url(journey_path(slug, "login")),
                                          recovery_url=ctx.url(journey_path(slug, "recovery")))
        return Done(confirmation(ctx))
    account = actions.register_member(ctx.organisation, member, identifier=identifier, email=email, now=ctx.now,
                                      password_hash=password_hash, ip=ctx.ip, language=ctx.language)
    if run.state.get("policy_version"):
        actions.accept_usage_policy(account, version=run.state["policy_version"], ip=ctx.ip,
                                    now=datetime.fromisoformat(run.state["policy_accepted_at"]))
    send_link(ctx, account)
    return Done(confirmation(ctx))


def open_any_link(ctx: Context, token: str) -> LinkStart | Screen:
    """A registration link, or a link that gives an account without email its address."""
    started = open_update_link(ctx, token)
    return open_link(ctx, token) if started is None else started


REGISTRATION = Journey(
    name="registration",
    steps=(Provisioned(), Identity(), Questions(), UsagePolicy(), SetPassword(), Activate(), UpdateProof(),
           UpdateAccount()),
    finish=finish,
    lifetime=timedelta(minutes=30),
    link=open_any_link,
)
