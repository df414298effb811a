"""The HTML renderer: shows a journey's current screen as a page and posts the form back to it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from guichet.journeys import engine
from guichet.journeys.catalogue import JOURNEYS
from guichet.journeys.paths import page_path
from guichet.journeys.screens import Done, Notice, Redirect, Screen, SignedIn
from guichet.organisations.resolve import by_slug
from guichet.web import outcomes
from guichet.web.context import binding_secret, context_for
from guichet.web.html.pages import organisation_context


class SeeOther(HttpResponseRedirect):
    status_code = 303


@never_cache
def journey(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    organisation = by_slug(slug)
    flow = JOURNEYS[name]
    ctx = context_for(request, organisation)
    secret = binding_secret(request)
    key = f"run:{slug}:{name}"
    if request.method == "GET" and "lien" in request.GET and flow.link is not None:
        opened = engine.open_link(flow, ctx, secret, request.GET["lien"][:200])
        if isinstance(opened, Screen):
            return _page(request, organisation, opened, None)
        request.session[key] = str(opened.pk)
        return SeeOther(request.path)   # the token leaves the address bar (and Referer headers)
    run = engine.load(flow, request.session.get(key), ctx, secret) if key in request.session else None
    if request.method == "POST" and run is not None and request.POST.get("run") == str(run.pk):
        result = engine.submit(flow, run, ctx, form_values(request.POST), request.POST.get("action", ""))
        if result.outcome is not None:
            del request.session[key]
            return _outcome(request, ctx, result.outcome, organisation)
        if result.moved:
            return SeeOther(request.path)
        assert result.screen is not None
        if result.run.finished_at:   # the step asked the member to start again
            del request.session[key]
        return _page(request, organisation, result.screen, result.run)
    notices: tuple[Notice, ...] = ()
    if request.method == "POST":   # an expired run or an old tab: start afresh, and say so
        notices = (Notice.of("journey.expired", "warning"),)
    if run is None:
        run = engine.start(flow, ctx, secret)
        request.session[key] = str(run.pk)
    screen = engine.show(flow, run, ctx)
    return _page(request, organisation, screen.with_errors(notices, {}, {}) if notices else screen, run)


TYPED = "__typed"


def form_values(posted: QueryDict) -> dict[str, str]:
    """The submitted fields. An open choice is posted as radio buttons plus a box for another answer
    (field.html): a picked choice wins, else what was typed."""
    values = {name: posted.get(name, "") for name in posted if not name.endswith(TYPED)}
    for name in posted:
        if name.endswith(TYPED) and not values.get(name.removesuffix(TYPED)):
            values[name.removesuffix(TYPED)] = posted.get(name, "")
    return values


def _page(request: HttpRequest, organisation: Any, screen: Screen, run: Any) -> HttpResponse:
    has_errors = any(n.level == "error" for n in screen.notices) or any(f.errors for f in screen.fields)
    context = organisation_context(organisation) | {
        "screen": screen, "run": run if run is not None and not run.finished_at else None,
        "has_errors": has_errors,
        "field_errors": [f for f in screen.fields if f.errors],
        "has_new_password": any(f.kind == "new_password" for f in screen.fields),
    }
    return render(request, "guichet/screen.html", context, status=200)


def _outcome(request: HttpRequest, ctx: engine.Context, outcome: Any, organisation: Any) -> HttpResponse:
    if isinstance(outcome, SignedIn):
        token = outcomes.sign_in(request, ctx, outcome)
        response = SeeOther(_next_url(request, organisation.slug))
        if token:
            outcomes.set_device_cookie(response, organisation.slug, token, outcome.remember_device_days)
        return response
    if isinstance(outcome, Redirect):
        return SeeOther(outcome.url)
    assert isinstance(outcome, Done)
    outcomes.keep_session(request)
    return render(request, "guichet/screen.html", organisation_context(organisation) | {"screen": outcome.screen})


def _next_url(request: HttpRequest, slug: str) -> str:
    """Where to go after signing in: a page of this organisation asked for earlier, or the member's space."""
    wanted = request.session.pop("next", "")
    return wanted if isinstance(wanted, str) and wanted.startswith(f"/o/{slug}/") else page_path(slug, "espace")
