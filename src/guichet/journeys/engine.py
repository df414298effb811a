"""The journey engine: a journey is an ordered list of steps; a run remembers where a member is.

Renderers (web/html, web/api) call `start`, `load`, `show` and `submit` and never decide anything:
which step comes next, what is valid and what happens is decided here and in the steps.
"""

from __future__ import annotations

import copy
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction

from guichet.core.messages import text
from guichet.journeys import validation
from guichet.journeys.models import Run
from guichet.journeys.screens import (
    Done,
    Goto,
    Next,
    Notice,
    Outcome,
    Redirect,
    Screen,
    SignedIn,
    Stay,
    Transition,
)
from guichet.policy.model import Organisation as Policy


@dataclass(frozen=True)
class Context:
    """Everything a step may know of the request, passed explicitly."""

    organisation: Any
    language: str
    now: datetime
    ip: str
    user_agent: str = ""
    base_url: str = ""
    cookies: Mapping[str, str] = field(default_factory=dict)
    account_id: Any = None   # the signed-in member, for journeys that need one

    @property
    def policy(self) -> Policy:
        return self.organisation.policy

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


class Step(ABC):
    name: ClassVar[str]
    # The engine runs a step's submit and what follows in one transaction, all or nothing. A step doing
    # slow work that needs no lock (a password hash) says so here and opens its own transactions around
    # its writes, so that the database's write lock (SQLite's, for one) is not held while it computes.
    own_transactions: ClassVar[bool] = False

    def applies(self, ctx: Context, run: Run) -> bool:
        return True

    def enter(self, ctx: Context, run: Run) -> tuple[Notice, ...]:
        """Runs once when the member arrives on the step (e.g. to send a code)."""
        return ()

    @abstractmethod
    def screen(self, ctx: Context, run: Run) -> Screen: ...

    @abstractmethod
    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition: ...


@dataclass(frozen=True)
class LinkStart:
    """Where a link from an email starts a run: the step, and the (non-secret) state to start with."""

    step: str
    state: dict[str, Any]


@dataclass(frozen=True)
class Journey:
    name: str
    steps: tuple[Step, ...]
    finish: Callable[[Context, Run], Outcome]
    lifetime: timedelta = timedelta(minutes=30)
    # For journeys that continue from a link in an email: peek at the token (never use it here: mail
    # scanners open links) and say where to start, or return the Screen explaining why the link is dead.
    link: Callable[[Context, str], LinkStart | Screen] | None = None

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def first_step(self, ctx: Context, run: Run) -> Step | None:
        return next((s for s in self.steps if s.applies(ctx, run)), None)

    def step_after(self, name: str, ctx: Context, run: Run) -> Step | None:
        names = [s.name for s in self.steps]
        return next((s for s in self.steps[names.index(name) + 1:] if s.applies(ctx, run)), None)


@dataclass(frozen=True)
class Result:
    """What a renderer shows: a screen (the run goes on), or an outcome (the run is over)."""

    run: Run
    screen: Screen | None = None
    outcome: Outcome | None = None
    moved: bool = False   # the step changed: show() it (the HTML renderer first redirects: POST/redirect/GET)


# However long the codes it sends live, a run never stays open longer than this after it started.
LONGEST_RUN = timedelta(hours=2)


def binding_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(journey: Journey, ctx: Context, binding_secret: str, state: dict[str, Any] | None = None,
          step: str | None = None) -> Run:
    run = Run(organisation=ctx.organisation, journey=journey.name, step="", state=state or {},
              binding=binding_of(binding_secret), created_at=ctx.now, expires_at=ctx.now + journey.lifetime)
    first = journey.step(step) if step else journey.first_step(ctx, run)
    assert first is not None, f"journey {journey.name} has no applicable step"
    run.step = first.name
    run.save()
    _enter(first, ctx, run)
    return run


def open_link(journey: Journey, ctx: Context, binding_secret: str, token: str) -> Run | Screen:
    """A run started from a link, or the screen saying the link cannot be used."""
    assert journey.link is not None, f"journey {journey.name} has no links"
    start_at = journey.link(ctx, token)
    if isinstance(start_at, Screen):
        return start_at
    return start(journey, ctx, binding_secret, state=start_at.state, step=start_at.step)


def load(journey: Journey, run_id: Any, ctx: Context, binding_secret: str) -> Run | None:
    """The run if it belongs to this browser session, journey and organisation, and is still open."""
    try:
        run = Run.objects.get(pk=run_id, journey=journey.name, organisation=ctx.organisation)
    except (Run.DoesNotExist, ValueError, ValidationError):  # ValidationError: not a UUID
        return None
    if run.finished_at or ctx.now >= run.expires_at or run.binding != binding_of(binding_secret):
        return None
    return run


def keep_open_until(run: Run, until: datetime) -> None:
    """The run stays open at least until `until`: a step that sends a code keeps the page where it is typed
    alive as long as the code (a 30-minute code in a 20-minute sign-in would die with the page). Never
    shortened, and never beyond LONGEST_RUN after the run started."""
    until = min(until, run.created_at + LONGEST_RUN)
    if until > run.expires_at:
        run.expires_at = until
        Run.objects.filter(pk=run.pk).update(expires_at=until)   # the engine saves only step and state


def show(journey: Journey, run: Run, ctx: Context) -> Screen:
    screen = journey.step(run.step).screen(ctx, run)
    flashed = tuple(Notice.of(code, level, **params) for code, level, params in run.state.pop("flash", []))
    if flashed:
        Run.objects.filter(pk=run.pk).update(state=run.state)
        screen = screen.with_errors(flashed, {}, {})
    return screen


def submit(journey: Journey, run: Run, ctx: Context, data: Mapping[str, str], action: str = "") -> Result:
    step = journey.step(run.step)
    screen = step.screen(ctx, run)
    chosen = next((a for a in screen.actions if a.name == action), screen.actions[0] if screen.actions else None)
    if chosen is None:
        return Result(run, screen)
    values = {f.name: str(data.get(f.name, "")) for f in screen.fields}
    if not chosen.skip_validation:
        errors, cleaned = validation.check(screen.fields, values)
        if errors:
            return Result(run, screen.with_errors((), errors, values))
        values = cleaned
    if step.own_transactions:
        transition = step.submit(ctx, run, values, chosen.name)
        with transaction.atomic():
            return _follow(journey, run, ctx, step, transition, values)
    with transaction.atomic():
        transition = step.submit(ctx, run, values, chosen.name)
        return _follow(journey, run, ctx, step, transition, values)


def _follow(journey: Journey, run: Run, ctx: Context, step: Step, transition: Transition,
            values: dict[str, str]) -> Result:
    if isinstance(transition, Stay):
        if transition.restart:
            _finish(run, ctx)
            return Result(run, Screen(title=text("journey.restarted"), notices=transition.notices))
        run.save(update_fields=["state"])
        return Result(run, step.screen(ctx, run).with_errors(transition.notices, transition.field_errors, values))
    if isinstance(transition, (Goto, Next)):
        target = (journey.step(transition.step) if isinstance(transition, Goto)
                  else journey.step_after(step.name, ctx, run))
        if isinstance(transition, Next) and transition.notices:
            _flash(run, transition.notices)
        if target is None:
            return _end(journey.finish(ctx, run), run, ctx)
        run.step = target.name
        run.save(update_fields=["step", "state"])
        _enter(target, ctx, run)
        return Result(run, moved=True)   # the renderer shows the new step (HTML after its redirect)
    return _end(transition, run, ctx)


def _end(outcome: Outcome, run: Run, ctx: Context) -> Result:
    assert isinstance(outcome, (SignedIn, Done, Redirect))
    _finish(run, ctx)
    return Result(run, outcome=outcome)


def _finish(run: Run, ctx: Context) -> None:
    run.finished_at = ctx.now
    run.save(update_fields=["finished_at", "state"])


def _enter(step: Step, ctx: Context, run: Run) -> None:
    before = copy.deepcopy(run.state)
    notices = step.enter(ctx, run)
    if notices:
        _flash(run, notices)
    if run.state != before:   # most steps have nothing to do on arrival: no write
        run.save(update_fields=["state"])


def _flash(run: Run, notices: tuple[Notice, ...]) -> None:
    run.state.setdefault("flash", []).extend([n.code, n.level, dict(n.params)] for n in notices)
