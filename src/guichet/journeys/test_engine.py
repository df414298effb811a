"""The engine's own promises, with a two-step journey written for the test, on the real database:
a step's submit and what follows are one transaction unless the step opens its own, and arriving on
a step that has nothing to do writes nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guichet.journeys import engine
from guichet.journeys.engine import Context, Journey, Step
from guichet.journeys.models import Run
from guichet.journeys.screens import Action, Done, Next, Screen
from guichet.organisations.models import Organisation

pytestmark = pytest.mark.django_db(transaction=True)   # no test-wide transaction hiding the engine's


class Broken(Exception):
    pass


class Writes(Step):
    """Records whether it ran inside a transaction, writes to its run, then fails if asked to."""

    name = "writes"
    seen: ClassVar[list[bool]] = []

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title="t", actions=(Action("go", "Go"),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Any:
        self.seen.append(transaction.get_connection().in_atomic_block)
        Run.objects.filter(pk=run.pk).update(state={"written": True})
        if run.state.get("fail"):
            raise Broken
        return Next()


class OwnTransactions(Writes):
    own_transactions = True


class Quiet(Step):
    name = "quiet"

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title="quiet", actions=(Action("go", "Go"),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Any:
        return Next()


def journey(first: Step) -> Journey:
    return Journey("test", (first, Quiet()), finish=lambda ctx, run: Done(Screen(title="done")),
                   lifetime=timedelta(minutes=5))


def context(organisation: Organisation) -> Context:
    return Context(organisation=organisation, language="en", now=timezone.now(), ip="127.0.0.1")


@pytest.mark.parametrize("step, inside", [(Writes(), True), (OwnTransactions(), False)])
def test_a_step_runs_in_the_engines_transaction_unless_it_opens_its_own(farm: Organisation, step: Step,
                                                                        inside: bool) -> None:
    Writes.seen.clear()
    ctx = context(farm)
    run = engine.start(journey(step), ctx, "browser", state={"fail": True})
    with pytest.raises(Broken):
        engine.submit(journey(step), run, ctx, {}, "go")
    assert Writes.seen == [inside]
    # All or nothing inside the engine's transaction; a step with its own keeps what it committed.
    assert Run.objects.get(pk=run.pk).state.get("written", False) is not inside


def test_arriving_on_a_step_with_nothing_to_do_writes_nothing(farm: Organisation) -> None:
    ctx = context(farm)
    with CaptureQueriesContext(connection) as queries:
        run = engine.start(journey(Quiet()), ctx, "browser")
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 1 and writes[0].startswith("INSERT"), writes
    assert Run.objects.filter(pk=run.pk, step="quiet").exists()


def test_a_run_is_kept_open_for_its_codes_never_shortened_and_never_beyond_its_longest(farm: Organisation) -> None:
    ctx = context(farm)
    run = engine.start(journey(Quiet()), ctx, "browser")   # open 5 minutes
    five = run.created_at + timedelta(minutes=5)
    engine.keep_open_until(run, ctx.now + timedelta(minutes=2))   # a code shorter than what is left
    assert Run.objects.get(pk=run.pk).expires_at == run.expires_at == five
    engine.keep_open_until(run, ctx.now + timedelta(minutes=30))
    assert Run.objects.get(pk=run.pk).expires_at == run.expires_at == ctx.now + timedelta(minutes=30)
    later = dataclasses.replace(ctx, now=ctx.now + timedelta(minutes=10))
    assert engine.load(journey(Quiet()), run.pk, later, "browser") is not None   # past its own 5 minutes
    engine.keep_open_until(run, ctx.now + timedelta(days=1))   # a code living a day: the run does not
    assert Run.objects.get(pk=run.pk).expires_at == run.created_at + engine.LONGEST_RUN
