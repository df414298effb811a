"""Console sign-in (email, password, authenticator code), sign-out, and first enrolment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from guichet.backoffice import agents, devices, notices, sessions
from guichet.identities import totp
from guichet.security import passwords, ratelimit
from guichet.security.passwords import describe
from guichet.security.ratelimit import client_ip

PER_IP_LIMIT, PER_IP_WINDOW = 30, timedelta(minutes=15)
ENROLMENT_TOKEN = "backoffice_enrolment"
ENROLMENT_SEED = "backoffice_enrolment_seed"
Errors = dict[str, list[dict[str, str]]]


def error(code: str) -> dict[str, str]:
    return {"code": code, "text": notices.text(code)}


def _required(data: Any, names: tuple[str, ...]) -> Errors:
    return {name: [{"code": "field.required", "text": _("This field is required.")}]
            for name in names if not str(data.get(name, "")).strip()}


def _next_page(request: HttpRequest) -> str:
    wanted = request.POST.get("suite") or request.GET.get("suite") or ""
    # Only console pages: never an address of another site (open redirect).
    if wanted.startswith("/agents/") and "//" not in wanted and "\\" not in wanted:
        return wanted
    return reverse("backoffice:search")


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"suite": _next_page(request), "errors": {}, "notices": [], "email": ""}
    if request.session.pop(sessions.EXPIRED_KEY, False):
        context["notices"].append(error("backoffice.session_expired"))
    if "deconnecte" in request.GET:
        context["notices"].append({"code": "backoffice.signed_out", "text": notices.text("backoffice.signed_out"),
                                   "level": "success"})
    if request.method != "POST":
        return render(request, "backoffice/login.html", context)
    context["email"] = request.POST.get("email", "")[:254]
    context["errors"] = _required(request.POST, ("email", "password", "code"))
    if context["errors"]:
        return render(request, "backoffice/login.html", context, status=400)
    now, ip = timezone.now(), client_ip(request)
    if not ratelimit.hit(f"agent-login:ip:{ip}", limit=PER_IP_LIMIT, window=PER_IP_WINDOW, now=now).allowed:
        context["notices"] = [{"code": "request.rate_limited", "text": _("Too many attempts from your connection. "
                                                                        "Please wait a few minutes and try again.")}]
        return render(request, "backoffice/login.html", context, status=429)
    device = devices.read(request)
    agent = agents.authenticate(email=request.POST["email"][:254], password=request.POST["password"][:1024],
                                code=request.POST["code"][:12], now=now, ip=ip, device=device)
    if agent is None:
        context["notices"] = [error("backoffice.login_invalid")]
        return render(request, "backoffice/login.html", context, status=400)
    sessions.sign_in(request, agent)
    response = redirect(context["suite"])
    devices.mark(response, agent.pk)
    return response


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    # A session that had already ended (idle...) is recorded as such by current(), not as a sign-out.
    if sessions.current(request) is None:
        request.session.pop(sessions.EXPIRED_KEY, None)
    sessions.sign_out(request)
    return redirect(reverse("backoffice:login") + "?deconnecte=1")


def _rules() -> list[str]:
    """The agents' password rules in words, for the enrolment page."""
    evaluation = passwords.evaluate("", agents.PASSWORD_RULES)
    rules = []
    for code, _passed in evaluation.checks:
        text = describe(code, agents.PASSWORD_RULES)
        if code == passwords.CLASSES:
            text += " " + ", ".join(describe(kind, agents.PASSWORD_RULES) for kind, _present in evaluation.classes)
        rules.append(text)
    return rules


@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    """The link printed by `guichet agents create`: choose a password, add the authenticator app."""
    if "jeton" in request.GET:
        # The token leaves the address bar (and the browser history) at once; the session keeps it.
        request.session[ENROLMENT_TOKEN] = request.GET["jeton"][:100]
        request.session.pop(ENROLMENT_SEED, None)
        return redirect(reverse("backoffice:enrol"))
    now = timezone.now()
    token = request.session.get(ENROLMENT_TOKEN, "")
    agent = agents.for_enrolment(token, now)
    if agent is None:
        return render(request, "backoffice/enrol.html", {"invalid": error("backoffice.enrolment_invalid")},
                      status=400 if token else 200)
    if ENROLMENT_SEED not in request.session:
        request.session[ENROLMENT_SEED] = totp.seal(totp.new_seed())
    seed = totp.unseal(request.session[ENROLMENT_SEED])
    context: dict[str, Any] = {
        "agent": agent, "errors": {},
        "key": " ".join(seed[i:i + 4] for i in range(0, len(seed), 4)),
        "uri": totp.provisioning_uri(seed, account_name=agent.email, issuer="Guichet – agents"),
        "rules": _rules(),
    }
    if request.method != "POST":
        return render(request, "backoffice/enrol.html", context)
    errors = _required(request.POST, ("password", "password_confirmation", "code"))
    password = request.POST.get("password", "")[:1024]
    if not errors:
        problems = agents.password_problems(agent, password)
        if problems:
            errors["password"] = [{"code": p, "text": describe(p, agents.PASSWORD_RULES)} for p in problems]
        elif password != request.POST["password_confirmation"]:
            errors["password_confirmation"] = [error("backoffice.password_mismatch")]
    if not errors and not agents.complete_enrolment(agent, token=token, password=password, seed=seed,
                                                    code=request.POST["code"][:12], now=now, ip=client_ip(request)):
        errors["code"] = [error("backoffice.enrolment_code_wrong")]
    if errors:
        context["errors"] = errors
        return render(request, "backoffice/enrol.html", context, status=400)
    request.session.pop(ENROLMENT_TOKEN, None)
    request.session.pop(ENROLMENT_SEED, None)
    return render(request, "backoffice/enrol.html", {"done": error("backoffice.enrolled")})
