"""Searching members, a member's page (record, account state, actions, audit trail), and the actions."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from guichet.audit.models import Event
from guichet.backoffice import agents, consultations, member_actions, notices, search
from guichet.backoffice.models import Agent
from guichet.backoffice.sessions import agent_required
from guichet.backoffice.views.activity import labelled
from guichet.backoffice.views.signin import error
from guichet.identities.models import Account, Factor
from guichet.security import devices, lockout
from guichet.security.ratelimit import client_ip

FLASH = "backoffice_flash"
TRAIL_PAGE_SIZE = 25
SEARCH_BY = (("number", _("Member number")), ("name", _("Name")), ("email", _("Email address")))
STATES = {"pending": _("Not activated yet"), "active": _("Active"), "disabled": _("Disabled")}
FACTORS = {"email": _("Codes by email"), "sms": _("Codes by text message"), "totp": _("Authenticator app")}
CHANNELS = (("email", _("Email")), ("sms", _("Text message")), ("letter", _("Postal letter")))
ACTION_TEXTS = {
    "unlock": (_("Unlock sign-in"), _("Clears the block after failed attempts and its counter."), _("Unlock")),
    "resend_activation": (_("Send a new activation link"),
                          _("For an account not activated yet; earlier links stop working."), _("Send the link")),
    "reset_password": (_("Send a temporary password"),
                       _("The member receives a new temporary password and chooses their own at next sign-in. "
                         "You never see it. Remembered devices are forgotten."), _("Send a temporary password")),
    "revoke_devices": (_("Forget remembered devices"), _("The member will be asked for a code at next sign-in."),
                       _("Forget the devices")),
    "end_sessions": (_("End all sessions"), _("Signs the member out everywhere."), _("End the sessions")),
    "remove_factors": (_("Remove the second factors"),
                       _("Removes the codes by text message, the authenticator app and the passkeys, and signs the "
                         "member out everywhere; the member is told. They will choose a second factor again at "
                         "next sign-in."), _("Remove the second factors")),
    "disable": (_("Disable the account"), _("No sign-in at all until the account is enabled again."),
                _("Disable")),
    "enable": (_("Enable the account"), _("The member can sign in again."), _("Enable")),
}


def _agent(request: HttpRequest) -> Agent:
    return request.agent  # type: ignore[attr-defined]  # set by sessions.agent_required


@agent_required
def search_page(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    scope = agents.scope(agent)
    by, typed = request.GET.get("by", "number"), request.GET.get("q", "")[:200]
    slug = request.GET.get("organisation", "")
    if slug:
        scope = scope.filter(slug=slug)
    searched = "q" in request.GET
    results = search.members(scope, by, typed) if searched else []
    context = {"by": by if by in search.BY else "number", "q": typed, "searched": searched,
               "search_by": SEARCH_BY, "organisations": agents.scope(agent), "chosen_organisation": slug,
               "results": results, "errors": {}}
    if searched and not typed.strip():
        context["errors"] = {"q": [error("backoffice.search_empty")]}
    elif searched and by in search.BY:   # something was looked up: audited, without the text typed
        consultations.searched(agent, by=by, scope=scope, filtered=bool(slug), found=results,
                               ip=client_ip(request))
    return render(request, "backoffice/search.html", context)


def _account_in_scope(request: HttpRequest, account_id: uuid.UUID, action: str) -> Account:
    """The account, or 404 if it is unknown or outside the agent's organisations (both look the same, in the
    answer and in the audited refusal)."""
    agent = _agent(request)
    account = Account.objects.select_related("organisation", "member").filter(pk=account_id).first()
    if account is None or not agents.may_act_on(agent, account.organisation):
        consultations.refused(agent, action=action, refusal="not_found", account=None, ip=client_ip(request))
        raise Http404
    return account


def _status(account: Account) -> dict[str, Any]:
    now = timezone.now()
    locked_until = lockout.locked_until(account.organisation, account, now)
    kinds = list(Factor.objects.filter(account=account).order_by("kind").values_list("kind", flat=True))
    return {
        "state": STATES.get(account.state, account.state),
        "locked_until": locked_until if locked_until and locked_until > now else None,
        "devices": len(devices.active(account, now)),
        "factors": [FACTORS.get(kind, kind) for kind in kinds],
        "factor_kinds": kinds,
        "temporary_expired": bool(account.must_change_password and account.password_expires_at
                                  and account.password_expires_at < now),
    }


def _applicable(agent: Agent, account: Account) -> list[str]:
    """The actions this agent may do and that make sense in the account's state."""
    hidden = {"enable" if account.state != Account.State.DISABLED else "disable"}
    if account.state == Account.State.DISABLED:
        hidden |= member_actions.NOT_WHEN_DISABLED
    if account.state != Account.State.PENDING:
        hidden.add("resend_activation")
    if not (account.factors.exists() or account.passkeys.exists()):
        hidden.add("remove_factors")
    return [a for a in member_actions.ACTIONS if a not in hidden and member_actions.allowed(agent, account, a)]


def _forms(agent: Agent, account: Account, failed: str = "", errors: dict[str, Any] | None = None,
           values: dict[str, str] | None = None) -> list[dict[str, Any]]:
    reachable = member_actions.destinations(account)
    forms = []
    for name in _applicable(agent, account):
        title, description, button = ACTION_TEXTS[name]
        mine = name == failed
        forms.append({
            "name": name, "title": title, "description": description, "button": button,
            "channels": [(value, label, reachable[value]) for value, label in CHANNELS] if name == "reset_password"
            else [],
            "errors": (errors or {}) if mine else {}, "reason": (values or {}).get("reason", "") if mine else "",
            "channel": (values or {}).get("channel", "") if mine else "",
            "danger": name in ("disable", "remove_factors"),
        })
    return forms


def _member_page(request: HttpRequest, account: Account, *, status: int = 200,
                 problems: list[dict[str, str]] | None = None, **form_state: Any) -> HttpResponse:
    agent = _agent(request)
    consultations.member_viewed(agent, account, ip=client_ip(request))   # first: the trail shows this view too
    trail = Event.objects.filter(account_id=account.pk).select_related("organisation").order_by("-at", "-id")
    page = Paginator(trail, TRAIL_PAGE_SIZE).get_page(request.GET.get("page"))
    flash = request.session.pop(FLASH, None)
    return render(request, "backoffice/member.html", {
        "account": account, "record": account.member, "status": _status(account), "trail": page,
        "rows": labelled(page),
        "organisation_label": account.organisation.policy.name.get("fr"),
        "forms": _forms(agent, account, **form_state),
        "flash": {"code": flash, "text": notices.text(flash)} if flash in notices.MESSAGES else None,
        "failed": form_state.get("failed", ""), "problems": problems or [],
        "disabled_note": notices.text("backoffice.account_disabled")
        if account.state == Account.State.DISABLED else "",
    }, status=status)


@agent_required
def member(request: HttpRequest, account_id: uuid.UUID) -> HttpResponse:
    return _member_page(request, _account_in_scope(request, account_id, "view"))


@require_POST
@agent_required
def act(request: HttpRequest, account_id: uuid.UUID, action: str) -> HttpResponse:
    agent = _agent(request)
    account = _account_in_scope(request, account_id, action)
    if not member_actions.allowed(agent, account, action):
        refusal = "supervisor_only" if action in member_actions.SUPERVISOR_ONLY else "unknown_action"
        consultations.refused(agent, action=action, refusal=refusal, account=account, ip=client_ip(request))
        return _member_page(request, account, status=403, problems=[error("backoffice.forbidden")])
    values = {"reason": request.POST.get("reason", "")[:2000], "channel": request.POST.get("channel", "")}
    try:
        done = member_actions.perform(agent, account, action, reason=values["reason"], channel=values["channel"],
                                      now=timezone.now(), ip=client_ip(request))
    except member_actions.Refused as refused:
        account.refresh_from_db()
        problem = error(refused.code)
        return _member_page(request, account, status=400, failed=action, values=values, problems=[problem],
                            errors={refused.field: [problem]} if refused.field else {})
    request.session[FLASH] = done
    return redirect("backoffice:member", account_id=account.pk)
