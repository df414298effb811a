"""Every bundled policy loads; every number of the guides is where a journey will read it; bad files
are refused with the file and the field named."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml

from guichet.policy.loader import PRESET_DIR, PolicyError, json_schema, load_file, load_folder, merge, parse
from guichet.policy.model import Organisation

# The bundled files (the same constants as src/guichet/conftest.py, which this layer may not import).
POLICY_DIR = Path(__file__).resolve().parents[3] / "policies" / "organisations"
PENSION, FARM, HEALTH = "caisse-retraite-exemple", "caisse-agricole-exemple", "mutuelle-sante-exemple"
SCHEMA_FILE = POLICY_DIR.parent / "schema" / "organisation.schema.json"


def bundled() -> dict[str, Organisation]:
    return {p.slug: p for p in load_folder(POLICY_DIR)}


def test_the_three_demo_organisations_load() -> None:
    assert set(bundled()) == {PENSION, FARM, HEALTH}


def test_pension_fund_numbers_from_the_guides() -> None:
    policy = bundled()[PENSION]
    assert policy.login.identifier.kind == "email"
    assert policy.login.second_factor.required and policy.login.second_factor.channels == ["email"]
    assert policy.login.second_factor.code.length == 6
    assert policy.login.second_factor.code.lifetime == timedelta(minutes=5)
    assert policy.login.second_factor.enrolment_required_from == date(2025, 10, 11)
    assert policy.login.remember_device.days == 30
    assert (policy.password.min_length, policy.password.min_classes) == (12, 3)
    assert policy.registration.match == ["member_number", "first_name", "last_name", "birth_date", "email"]
    assert policy.registration.questions_asked == 2 and policy.registration.usage_policy is not None
    assert policy.registration.password == "after_link"
    assert policy.recovery.style == "link" and policy.recovery.captcha and policy.recovery.ask == ["email"]


def test_farm_social_security_numbers_from_the_guide() -> None:
    policy = bundled()[FARM]
    assert policy.registration.mode == "provisioned" and policy.registration.temporary_password_channel == "postal"
    assert (policy.password.min_length, policy.password.min_classes, policy.password.min_strength) == (8, 4, "medium")
    contact = policy.first_login.confirm_contact_details
    assert contact is not None and contact.code.length == 4 and contact.code.lifetime == timedelta(minutes=30)
    assert policy.recovery.style == "code_then_temporary_password"
    assert policy.recovery.channels == ["email", "sms"] and policy.recovery.code.lifetime == timedelta(minutes=30)
    never = policy.recovery.never_connected
    assert never is not None and never.fallback == "postal"
    individual = [q.fact for q in never.questions_by_category["individual"]]
    assert individual == ["health_card_serial", "recent_benefit_amount"]
    assert never.questions_by_category["third_party"] == []
    assert never.letter_every == timedelta(days=7)   # choice: one letter a week at most (docs/decisions.md)
    franceconnect = policy.login.federation["franceconnect"]
    assert franceconnect.kind == "franceconnect" and franceconnect.acr_values == "eidas1"
    assert franceconnect.client_secret_env == "FRANCECONNECT_CLIENT_SECRET" and not franceconnect.enabled


def test_health_mutual_numbers_from_the_guide() -> None:
    policy = bundled()[HEALTH]
    assert policy.login.identifier.kind == "finess" and policy.member_number.kind == "finess"
    assert (policy.password.min_length, policy.password.max_length, policy.password.min_classes) == (8, 25, 4)
    assert (policy.login.lockout.max_failures, policy.login.lockout.duration) == (3, timedelta(hours=2))
    assert policy.registration.match == ["member_number", "iban_suffix"] and policy.registration.iban_suffix_length == 5
    assert policy.registration.link.lifetime == timedelta(hours=24) and policy.registration.password == "in_form"
    assert policy.recovery.style == "link_and_code" and policy.recovery.link.lifetime == timedelta(hours=24)
    assert policy.security_advice


def test_the_committed_json_schema_is_up_to_date() -> None:
    hint = f"run: guichet organisations schema > {SCHEMA_FILE}"
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema(), hint


@pytest.mark.parametrize("path", sorted(POLICY_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_bundled_file_after_its_preset_matches_the_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    merged = merge(yaml.safe_load((PRESET_DIR / f"{data['preset']}.yaml").read_text()), data)
    jsonschema.validate(json.loads(json.dumps(merged, default=str)), json_schema())


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


MINIMAL = """
slug: demo-org
preset: health-mutual
name: {fr: "Démo", en: "Demo"}
"""


def test_a_minimal_file_on_a_preset_is_enough(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "demo-org", MINIMAL)).login.lockout.max_failures == 3


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("login: {lockout: {max_failures: 0}}", "login.lockout.max_failures", "greater than or equal to 1"),
        ("login: {second_factor: {code: {lifetime: five minutes}}}", "login.second_factor.code.lifetime", "duration"),
        ("theme: {primary_colour: '#ffff00'}", "theme.primary_colour", "contrast"),
        ("password: {min_length: 20, max_length: 10}", "password", "shorter"),
        ("login: {lockuot: {}}", "login.lockuot", "Extra inputs"),
        ("member_number: {pattern: '([0-9'}", "member_number.pattern", "regular expression"),
        ("login: {lockout: {duration: 15m, forget_after: 1m}}", "login.lockout", "must be at least 1:00:00"),
        ("login: {lockout: {duration: 3h, forget_after: 2h}}", "login.lockout", "at least 3:00:00"),
        ("recovery: {never_connected: {questions_by_category: {}, letter_every: 2h}}", "recovery.never_connected",
         "letter_every must be at least 1d"),
    ],
)
def test_bad_values_are_refused_with_file_and_field(tmp_path: Path, extra: str, field: str, words: str) -> None:
    path = write(tmp_path, "demo-org", MINIMAL + extra)
    with pytest.raises(PolicyError) as caught:
        load_file(path)
    problem = caught.value.problems[0]
    assert problem.file == str(path) and problem.field == field and words in problem.message


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        # The documented form only: a bare number is not 30 seconds, and YAML 1.1's 1:30 is not 90 seconds.
        ("recovery: {temporary_password: {lifetime: 30}}", "recovery.temporary_password.lifetime", "30d), not 30"),
        ("login: {second_factor: {code: {lifetime: 1:30}}}", "login.second_factor.code.lifetime", "30d), not 90"),
        ("login: {lockout: {duration: -5m}}", "login.lockout.duration", "whole number followed by s, m, h or d"),
        ("registration: {link: {lifetime: 0s}}", "registration.link.lifetime", "must be more than 0"),
        ("login: {lockout: {duration: 15m, max_duration: 10m}}", "login.lockout",
         "max_duration (10m) must be at least duration (15m)"),
    ],
)
def test_durations_are_positive_and_written_with_their_unit(tmp_path: Path, extra: str, field: str,
                                                             words: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_file(write(tmp_path, "demo-org", MINIMAL + extra))
    problem = caught.value.problems[0]
    assert problem.field == field and words in problem.message, caught.value.problems
    assert not jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())["$defs"]["Link"]).is_valid(
        {"lifetime": "0s"})   # the schema says so too


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("login: {second_factor: {required: true, channels: [], totp: false, passkeys: false}}",
         "login.second_factor", "needs at least one means"),
        ('email_from: "not an address\\nBcc: spy@attacker.example"', "email_from", "on one line"),
        ('email_from: "Caisse\\r\\n <noreply@caisse.example>"', "email_from", "on one line"),
        ('email_from: "not an address"', "email_from", "one email address"),
        ('email_from: "a@caisse.example, b@caisse.example"', "email_from", "one email address"),
    ],
)
def test_a_policy_that_cannot_work_is_refused_before_any_member_meets_it(tmp_path: Path, extra: str, field: str,
                                                                         words: str) -> None:
    """A required second factor with no means would lock every member out; a sender with a line break would make
    every email of the organisation fail (and could add headers)."""
    with pytest.raises(PolicyError) as caught:
        load_file(write(tmp_path, "demo-org", MINIMAL + extra + "\n"))
    problem = caught.value.problems[0]
    assert problem.field == field and words in problem.message, caught.value.problems


def test_a_second_factor_with_one_means_or_optional_loads(tmp_path: Path) -> None:
    for extra in ("login: {second_factor: {required: true, channels: [], totp: true, passkeys: false}}",
                  "login: {second_factor: {required: false, channels: [], totp: false, passkeys: false}}",
                  'email_from: "Mutuelle santé <noreply@mutuelle.example>"'):
        load_file(write(tmp_path, "demo-org", MINIMAL + extra + "\n"))


def test_unknown_preset_and_broken_yaml(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="unknown preset 'bank'"):
        parse({"slug": "x-y", "preset": "bank"}, "x.yaml")
    with pytest.raises(PolicyError, match="line 2"):
        load_file(write(tmp_path, "broken", "slug: a\n  name: : :\n"))


def test_a_key_written_twice_is_refused_naming_both_lines(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys: a second `login:` would silently drop the first one's options."""
    text = MINIMAL + "login:\n  lockout: {max_failures: 3}\nlogin:\n  remember_device: {enabled: false}\n"
    with pytest.raises(PolicyError) as caught:
        load_file(write(tmp_path, "demo-org", text))
    line = MINIMAL.count("\n") + 1
    assert caught.value.problems[0].field == f"line {line + 2}, column 1"
    assert f"the key 'login' appears twice (first on line {line})" in caught.value.problems[0].message
    with pytest.raises(PolicyError, match="'fr' appears twice"):
        load_file(write(tmp_path, "demo-org", MINIMAL + "short_name: {fr: a, en: b, fr: c}\n"))


def test_the_file_name_must_be_the_slug(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="must match the file name"):
        load_file(write(tmp_path, "other-name", MINIMAL))


def test_a_folder_reports_all_bad_files_at_once(tmp_path: Path) -> None:
    write(tmp_path, "demo-org", MINIMAL + "login: {lockout: {max_failures: 0}}")
    write(tmp_path, "second", MINIMAL.replace("demo-org", "second") + "password: {min_classes: 9}")
    with pytest.raises(PolicyError) as caught:
        load_folder(tmp_path)
    assert {p.field for p in caught.value.problems} == {"login.lockout.max_failures", "password.min_classes"}


FEDERATION = """
login:
  federation:
    {name}:
      label: {{fr: "Avec mon compte", en: "With my account"}}
      issuer: {issuer}
      client_id: {client_id}
      client_secret_env: {secret_env}
      enabled: true
"""


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"issuer": "http://idp.example"}, "https://"),
        ({"client_id": "''"}, "client_id and client_secret_env"),
        ({"secret_env": "lower_case"}, "should match pattern"),
        ({"name": "Bad_Name"}, "provider name"),
    ],
)
def test_a_federation_provider_is_checked(tmp_path: Path, values: dict[str, str], words: str) -> None:
    fields = {"name": "idp", "issuer": "https://idp.example", "client_id": "guichet", "secret_env": "IDP_SECRET"}
    path = write(tmp_path, "demo-org", MINIMAL + FEDERATION.format(**(fields | values)))
    with pytest.raises(PolicyError) as caught:
        load_file(path)
    assert words in caught.value.problems[0].message


def test_an_enabled_provider_on_a_loopback_issuer_loads(tmp_path: Path) -> None:
    fields = {"name": "idp", "issuer": "http://127.0.0.1:4000/", "client_id": "guichet", "secret_env": "IDP_SECRET"}
    policy = load_file(write(tmp_path, "demo-org", MINIMAL + FEDERATION.format(**fields)))
    assert policy.login.enabled_upstreams()["idp"].issuer == "http://127.0.0.1:4000"
