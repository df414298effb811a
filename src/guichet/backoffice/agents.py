"""Agents' lifecycle: creation, enrolment (password + authenticator app), sign-in, scope.

Every change is audited with the agent as subject (`actor` names who did it: the operator at the
command line, or the agent).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guichet.audit.record import record
from guichet.backoffice import throttle
from guichet.backoffice.devices import DeviceMark
from guichet.backoffice.models import Agent
from guichet.identities import totp
from guichet.organisations.models import Organisation
from guichet.policy.model import PasswordRules
from guichet.security import passwords

ENROLMENT_LIFETIME = timedelta(hours=72)
# Agents see many members' data: stricter than any member rule.
PASSWORD_RULES = PasswordRules(min_length=14, max_length=1024, min_classes=3, min_strength="strong",
                               refuse_common=True)


class AgentError(ValueError):
    """What was asked cannot be done (unknown organisation, email taken...); said in the active language."""


def _digest(token: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"agent-enrolment:{token}".encode(), hashlib.sha256).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def create(*, email: str, name: str, role: str, organisation_slugs: Iterable[str], now: datetime,
           actor: str = "operator", all_organisations: bool = False) -> tuple[Agent, str]:
    """A new agent, not yet enrolled; returns it with its one-time enrolment token.

    Every agent, supervisors included, reaches the organisations it is given; a supervisor reaches every
    organisation only when asked explicitly (`all_organisations`), never by default."""
    email = normalise_email(email)
    if role not in Agent.Role.values:
        raise AgentError(_("the role must be one of %(roles)s, not %(role)r")
                         % {"roles": ", ".join(Agent.Role.values), "role": role})
    if Agent.objects.filter(email=email).exists():
        raise AgentError(_("an agent with the email %(email)s already exists") % {"email": email})
    found, slugs = _reach(role, organisation_slugs, all_organisations)
    agent = Agent.objects.create(email=email, name=name.strip(), role=role, all_organisations=all_organisations)
    agent.organisations.set(found)
    token = issue_enrolment(agent, now=now, actor=actor)
    record("agent.created", actor=actor, agent_id=agent.pk, role=role, organisations=slugs,
           all_organisations=all_organisations)
    return agent, token


def _reach(role: str, organisation_slugs: Iterable[str], all_organisations: bool) -> tuple[list[Organisation],
                                                                                          list[str]]:
    """The organisations named, checked against the role; raises AgentError."""
    slugs = sorted(set(organisation_slugs))
    found = list(Organisation.objects.filter(slug__in=slugs))
    missing = set(slugs) - {o.slug for o in found}
    if missing:
        raise AgentError(ngettext("unknown organisation: %(slugs)s", "unknown organisations: %(slugs)s",
                                  len(missing)) % {"slugs": ", ".join(sorted(missing))})
    if all_organisations and role != Agent.Role.SUPERVISOR:
        raise AgentError(_("only a supervisor may reach all organisations (--all-organisations)"))
    if all_organisations and found:
        raise AgentError(_("give either --organisation or --all-organisations, not both"))
    if not found and not all_organisations:
        raise AgentError(_("give at least one --organisation (or, for a supervisor, --all-organisations)"))
    return found, slugs


@transaction.atomic
def set_reach(agent: Agent, *, organisation_slugs: Iterable[str], all_organisations: bool,
              actor: str = "operator") -> None:
    """Changes whose members the agent may help (same rules as at creation); audited."""
    found, slugs = _reach(agent.role, organisation_slugs, all_organisations)
    before = sorted(agent.organisations.values_list("slug", flat=True))
    before_all = agent.all_organisations
    agent.all_organisations = all_organisations
    agent.save(update_fields=["all_organisations"])
    agent.organisations.set(found)
    record("agent.organisations_changed", actor=actor, agent_id=agent.pk, organisations=slugs,
           all_organisations=all_organisations, previous=before, previous_all_organisations=before_all)


@transaction.atomic
def issue_enrolment(agent: Agent, *, now: datetime, actor: str = "operator") -> str:
    """A new enrolment token; the agent's password and authenticator are cleared until it is used."""
    token = secrets.token_urlsafe(32)
    agent.enrolment_hash = _digest(token)
    agent.enrolment_expires_at = now + ENROLMENT_LIFETIME
    agent.password = ""
    agent.totp_secret = ""
    agent.totp_last_step = None
    agent.save(update_fields=["enrolment_hash", "enrolment_expires_at", "password", "totp_secret",
                              "totp_last_step"])
    record("agent.enrolment_issued", actor=actor, agent_id=agent.pk)
    return token


def for_enrolment(token: str, now: datetime) -> Agent | None:
    """The agent this enrolment token belongs to, if it is still valid (it is not used up here)."""
    if not token:
        return None
    agent = Agent.objects.filter(enrolment_hash=_digest(token), active=True).first()
    if agent is None or agent.enrolment_expires_at is None or now >= agent.enrolment_expires_at:
        return None
    return agent


def password_problems(agent: Agent, password: str) -> list[str]:
    user_inputs = [agent.email, agent.name]
    return passwords.evaluate(password, PASSWORD_RULES, user_inputs=user_inputs).problems


@transaction.atomic
def complete_enrolment(agent: Agent, *, token: str, password: str, seed: str, code: str, now: datetime,
                       ip: str | None) -> bool:
    """Sets the password and the authenticator, if the token is still valid and the code is right."""
    locked = Agent.objects.select_for_update().get(pk=agent.pk)
    if locked.enrolment_hash != _digest(token) or for_enrolment(token, now) is None:
        return False
    step = totp.matching_step(seed, code.replace(" ", ""), now)
    if step is None:
        return False
    locked.password = make_password(password)
    locked.totp_secret = totp.seal(seed)
    locked.totp_last_step = step
    locked.enrolment_hash = ""
    locked.enrolment_expires_at = None
    locked.save()
    record("agent.enrolled", actor=locked.actor, ip=ip, agent_id=locked.pk)
    return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return make_password("not-a-real-password-only-for-constant-time")


def _totp_accepted(agent: Agent, code: str, now: datetime) -> bool:
    step = totp.matching_step(totp.unseal(agent.totp_secret), code.replace(" ", ""), now)
    if step is None or (agent.totp_last_step is not None and step <= agent.totp_last_step):
        return False
    # Conditional update: two nodes cannot both accept the same code.
    return Agent.objects.filter(pk=agent.pk, totp_last_step=agent.totp_last_step).update(totp_last_step=step) == 1


def authenticate(*, email: str, password: str, code: str, now: datetime, ip: str | None,
                 device: DeviceMark | None = None) -> Agent | None:
    """The agent, if all three are right and the identity is not locked; else None, whatever the cause.

    Unknown email, wrong password, wrong code, disabled, not enrolled and locked all give the same
    answer, and all pay for one password hash, so the page reveals nothing. `device` is the browser's mark
    from an earlier sign-in (backoffice.devices): when it is this agent's, the attempt counts on that
    browser's own counter.
    """
    agent = Agent.objects.filter(email=normalise_email(email)).first()
    own = device.nonce if device is not None and agent is not None and device.agent_id == agent.pk else None
    key = throttle.key_for(agent, email, own)
    # Counted as a failure before the password is checked (see throttle.reserve): parallel requests cannot
    # all slip in before the lock. A locked identity still pays for a hash, so timing tells nothing.
    attempt = throttle.reserve(key, now, agent if own else None)
    stored = agent.password if agent is not None and agent.active and agent.enrolled else ""
    right = check_password(password, stored or _dummy_hash()) and bool(stored)
    if right and attempt.allowed and agent is not None and _totp_accepted(agent, code, now):
        throttle.record_success(key)
        agent.last_login = now
        agent.save(update_fields=["last_login"])
        record("agent.login.succeeded", actor=agent.actor, ip=ip, agent_id=agent.pk)
        return agent
    status = attempt.status
    reason = "locked" if not attempt.allowed else ("credentials" if not right else "code")
    record("agent.login.failed", actor=agent.actor if agent else "unknown", ip=ip,
           agent_id=agent.pk if agent else None, reason=reason,
           locked_until=status.locked_until.isoformat() if status.just_locked and status.locked_until else None)
    return None


def scope(agent: Agent) -> QuerySet[Organisation]:
    """The organisations whose members this agent may see and help: the agent's own, supervisors' too, unless
    the supervisor was given every organisation explicitly (`Agent.all_organisations`)."""
    if agent.global_reach:
        return Organisation.objects.all()
    return agent.organisations.all()


def may_act_on(agent: Agent, organisation: Organisation | None) -> bool:
    return organisation is not None and scope(agent).filter(pk=organisation.pk).exists()


@transaction.atomic
def set_active(agent: Agent, active: bool, *, actor: str = "operator") -> None:
    agent.active = active
    agent.save(update_fields=["active"])
    record("agent.enabled" if active else "agent.disabled", actor=actor, agent_id=agent.pk)
