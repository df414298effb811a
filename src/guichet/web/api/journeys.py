"""The JSON renderer: the same journeys and Screens as the HTML pages, for apps and scripts.

Cookies carry the session exactly as for pages, and POSTs need the CSRF token (GET /api/csrf,
then send it in the X-CSRFToken header).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guichet.journeys import engine
from guichet.journeys.catalogue import JOURNEYS
from guichet.journeys.paths import page_path
from guichet.journeys.screens import Done, Notice, Redirect, Screen, SignedIn
from guichet.organisations.resolve import by_slug
from guichet.security.ratelimit import client_ip
from guichet.web import outcomes
from guichet.web.api.openapi import DOCUMENT
from guichet.web.context import binding_secret, context_for


def screen_json(screen: Screen, run: Any = None) -> dict[str, Any]:
    return {
        "run": str(run.pk) if run is not None and not run.finished_at else None,
        "step": run.step if run is not None else None,
        "title": screen.title,
        "notices": [n.to_json() for n in screen.notices],
        "paragraphs": list(screen.paragraphs),
        "details": [{"summary": s, "text": t} for s, t in screen.details],
        "fields": [f.to_json() for f in screen.fields],
        "actions": [{"name": a.name, "label": a.label, "skip_validation": a.skip_validation} for a in screen.actions],
        "links": [{"label": link.label, "url": link.url} for link in screen.links],
    }


def _status(screen: Screen) -> int:
    return 422 if any(n.level == "error" for n in screen.notices) or any(f.errors for f in screen.fields) else 200


@require_GET
def csrf(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"csrf_token": get_token(request)})


@never_cache
@require_POST
def start(request: HttpRequest, slug: str, name: str) -> JsonResponse:
    organisation = by_slug(slug)
    if name not in JOURNEYS:
        return JsonResponse({"error": {"code": "journey.unknown"}}, status=404)
    ctx = context_for(request, organisation)
    run = engine.start(JOURNEYS[name], ctx, binding_secret(request))
    return JsonResponse(screen_json(engine.show(JOURNEYS[name], run, ctx), run), status=201)


@never_cache
@require_POST
def link(request: HttpRequest, slug: str, name: str) -> JsonResponse:
    """Continue a journey from the token of an emailed link: body {"token": "..."}."""
    organisation = by_slug(slug)
    flow = JOURNEYS.get(name)
    if flow is None or flow.link is None:
        return JsonResponse({"error": {"code": "journey.unknown"}}, status=404)
    try:
        token = str(json.loads(request.body or b"{}").get("token", ""))[:200]
    except (ValueError, AttributeError):
        return JsonResponse({"error": {"code": "request.invalid_json", "text": "Invalid JSON body"}}, status=400)
    ctx = context_for(request, organisation)
    opened = engine.open_link(flow, ctx, binding_secret(request), token)
    if isinstance(opened, Screen):
        return JsonResponse({"outcome": "done", "screen": screen_json(opened)}, status=410)
    return JsonResponse(screen_json(engine.show(flow, opened, ctx), opened), status=201)


@never_cache
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, slug: str, name: str, run_id: str) -> JsonResponse:
    organisation = by_slug(slug)
    flow = JOURNEYS.get(name)
    if flow is None:
        return JsonResponse({"error": {"code": "journey.unknown"}}, status=404)
    ctx = context_for(request, organisation)
    run = engine.load(flow, run_id, ctx, binding_secret(request))
    if run is None:
        notice = Notice.of("journey.expired", "error")
        return JsonResponse({"error": notice.to_json()}, status=410)
    if request.method == "GET":
        return JsonResponse(screen_json(engine.show(flow, run, ctx), run))
    try:
        body = json.loads(request.body or b"{}")
        values = {str(k): str(v) for k, v in dict(body.get("values", {})).items()}
        action = str(body.get("action", ""))
    except (ValueError, TypeError, AttributeError):
        return JsonResponse({"error": {"code": "request.invalid_json", "text": "Invalid JSON body"}}, status=400)
    result = engine.submit(flow, run, ctx, values, action)
    if result.moved:
        return JsonResponse(screen_json(engine.show(flow, result.run, ctx), result.run))
    if result.outcome is None:
        assert result.screen is not None
        return JsonResponse(screen_json(result.screen, result.run), status=_status(result.screen))
    outcome = result.outcome
    if isinstance(outcome, SignedIn):
        token = outcomes.sign_in(request, ctx, outcome)
        response = JsonResponse({"outcome": "signed_in", "redirect": page_path(slug, "espace")})
        if token:
            outcomes.set_device_cookie(response, slug, token, outcome.remember_device_days)
        return response
    if isinstance(outcome, Redirect):
        return JsonResponse({"outcome": "redirect", "redirect": outcome.url})
    assert isinstance(outcome, Done)
    outcomes.keep_session(request)
    return JsonResponse({"outcome": "done", "screen": screen_json(outcome.screen)})


@require_GET
def session(request: HttpRequest, slug: str) -> JsonResponse:
    by_slug(slug)
    account = outcomes.signed_in_account(request, slug)
    if account is None:
        return JsonResponse({"signed_in": False}, status=401)
    return JsonResponse({"signed_in": True, "account": {"id": str(account.pk), "identifier": account.identifier,
                                                        "email": account.email},
                         "method": request.session.get("method", "")})


@require_POST
def logout(request: HttpRequest, slug: str) -> JsonResponse:
    by_slug(slug)
    goes_on = outcomes.sign_out(request, client_ip(request), go_on=True)
    # Signed in through FranceConnect (or another provider): the browser must go there to end that session too.
    return JsonResponse({"signed_in": False, **({"redirect": goes_on} if goes_on else {})})


@never_cache
@require_GET
def captcha_challenge(request: HttpRequest, slug: str) -> JsonResponse:
    """A fresh ALTCHA proof-of-work challenge for web/static/guichet/captcha.js (or any client)."""
    from guichet.security import captcha, ratelimit

    by_slug(slug)
    if not ratelimit.hit(f"captcha:{client_ip(request)}", limit=120, window=timedelta(minutes=5)).allowed:
        return JsonResponse({"error": Notice.of("request.rate_limited", "error").to_json()}, status=429)
    return JsonResponse(captcha.new_challenge())


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(DOCUMENT)


@require_POST
def password_check(request: HttpRequest, slug: str) -> JsonResponse:
    """The live checklist and gauge: the server's own rules, so the page never disagrees with it."""
    from guichet.security import ratelimit
    from guichet.security.passwords import STRENGTH_LABELS, describe, evaluate

    organisation = by_slug(slug)
    if not ratelimit.hit(f"password-check:{client_ip(request)}", limit=300, window=timedelta(minutes=5)).allowed:
        return JsonResponse({"error": Notice.of("request.rate_limited", "error").to_json()}, status=429)
    try:
        password = str(json.loads(request.body or b"{}").get("password", ""))[:1024]
    except (ValueError, AttributeError):
        return JsonResponse({"error": {"code": "request.invalid_json", "text": "Invalid JSON body"}}, status=400)
    rules = organisation.policy.password
    evaluation = evaluate(password, rules)
    return JsonResponse({
        "checks": [{"code": code, "passed": passed, "text": describe(code, rules)}
                   for code, passed in evaluation.checks + evaluation.classes],
        "strength": evaluation.strength, "strength_label": str(STRENGTH_LABELS[evaluation.strength]),
        "acceptable": evaluation.acceptable,
    })
