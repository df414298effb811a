from __future__ import annotations

import csv
from pathlib import Path

import pytest

from guichet.organisations.models import Organisation
from guichet.policy.model import Identifier
from guichet.registry.csv_columns import categories, questions
from guichet.registry.csv_import import import_members
from guichet.registry.matching import member_number_is_valid, name_key, parse_amount
from guichet.registry.models import MemberRecord
from guichet.registry.synthetic import (
    add_demo_members,
    csv_columns,
    demo_members,
    generate,
    member_number,
    synthetic_rows,
)


@pytest.mark.parametrize("slug", ["caisse-retraite-exemple", "caisse-agricole-exemple", "mutuelle-sante-exemple"])
def test_synthetic_members_fit_the_policy(organisations: dict[str, Organisation], slug: str) -> None:
    organisation = organisations[slug]
    policy = organisation.policy
    assert generate(organisation, 300) == 300
    facts = {q.fact for q in questions(policy)}
    records = list(MemberRecord.objects.filter(organisation=organisation))
    assert len(records) == 300
    for record in records:
        assert member_number_is_valid(policy.member_number, record.member_number)
        assert record.last_name_key == name_key(record.last_name) != ""
        assert record.email_key.endswith("@example.org") and record.mobile.startswith("+336")
        assert len(record.iban_suffix) == 10 and record.birth_date is not None and "\n" in record.address
        assert set(record.facts) == facts
        for question in questions(policy):
            if question.answer == "amount":
                parse_amount(record.facts[question.fact])
    known = categories(policy)
    if known:
        assert {r.category for r in records} <= known and len({r.category for r in records}) > 1
    else:
        assert {r.category for r in records} == {""}
    assert len({r.email_key for r in records}) == 300
    assert any("-" in r.first_name or "-" in r.last_name for r in records)
    assert any(r.first_name_key != r.first_name.lower() for r in records)  # accents and hyphens folded


def test_the_same_seed_gives_the_same_members_and_generating_again_updates(pension: Organisation) -> None:
    assert list(synthetic_rows(pension.policy, 20, seed=3)) == list(synthetic_rows(pension.policy, 20, seed=3))
    assert list(synthetic_rows(pension.policy, 5, seed=1)) != list(synthetic_rows(pension.policy, 5, seed=2))
    generate(pension, 20, seed=3)
    before = list(MemberRecord.objects.order_by("member_number").values_list("member_number", "email", "facts"))
    generate(pension, 20, seed=3)
    generate(pension, 20, seed=4)  # another seed adds members, never overwrites
    assert MemberRecord.objects.count() == 40
    after = MemberRecord.objects.filter(member_number__in=[n for n, _, _ in before])
    assert list(after.order_by("member_number").values_list("member_number", "email", "facts")) == before


def test_demo_members_are_well_known_and_idempotent(health: Organisation, farm: Organisation) -> None:
    demo = demo_members(health)
    assert demo == demo_members(health) and len(demo) == 3
    assert demo[0]["last_name"] == "D'Arcy" and demo[0]["iban_suffix"].endswith("90189")
    assert all(member_number_is_valid(health.policy.member_number, m["member_number"]) for m in demo)
    assert add_demo_members(health) == 3 and add_demo_members(health) == 3
    assert MemberRecord.objects.filter(organisation=health).count() == 3
    farmer = demo_members(farm)[1]
    assert farmer["category"] == "farmer" and farmer["facts"]["contribution_invoice_amount"] == "845.20"
    assert demo_members(health)[1]["category"] == ""  # the health mutual has no categories


def test_demo_and_synthetic_members_never_collide(pension: Organisation) -> None:
    generate(pension, 10)
    add_demo_members(pension)
    assert MemberRecord.objects.count() == 13


def test_member_numbers_for_patterns() -> None:
    label = {"fr": "N", "en": "N"}
    sixteen = Identifier.model_validate({"kind": "member_number", "label": label, "pattern": r"^1[0-9]{15}$"})
    assert member_number(sixteen, 42) == "1000000000000042"
    with pytest.raises(ValueError, match="cannot generate member numbers"):
        member_number(Identifier.model_validate({"kind": "member_number", "label": label, "pattern": "^[A-Z]{3}$"}), 1)


def test_synthetic_csv_imports_cleanly(farm: Organisation, tmp_path: Path) -> None:
    path = tmp_path / "synthetic.csv"
    columns = csv_columns(farm.policy)
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, delimiter=";")
        writer.writeheader()
        writer.writerows(synthetic_rows(farm.policy, 500, seed=7))
    summary = import_members(farm, path)
    assert (summary.created, summary.rejected) == (500, 0)
