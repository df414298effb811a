"""Reading policy files: YAML, preset merge, validation, with errors naming file and field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from guichet.policy.model import Organisation
from guichet.policy.types import DUPLICATE_KEY, NOT_YAML, Refusal

PRESET_DIR = Path(__file__).parent / "presets"


@dataclass(frozen=True)
class Problem:
    """`message` is English; `template` % `params` (or pydantic's error `kind` with its `params`) lets the
    organisations command translate it, and `line`, `column` the place of a YAML error (then in `field`)."""

    file: str
    field: str
    message: str
    template: str = ""
    kind: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}: {self.field or '(file)'}: {self.message}"


class PolicyError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings are merged key by key, anything else in override replaces base."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _DuplicateKey(yaml.constructor.ConstructorError):
    def __init__(self, node: yaml.Node, key_node: yaml.Node, params: dict[str, Any]):
        super().__init__("while reading a mapping", node.start_mark, DUPLICATE_KEY % params, key_node.start_mark)
        self.params, self.line, self.column = params, key_node.start_mark.line + 1, key_node.start_mark.column + 1


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice in one mapping is an error: PyYAML would keep the
    last one, and a second `login:` block would silently drop the first one's options."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":   # `<<:` merges are not keys of their own
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:   # an unhashable key: the base class reports it
                continue
            if first is not None:
                raise _DuplicateKey(node, key_node, {"key": repr(key), "first": first})
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError([Problem(str(path), "", f"cannot be read: {error}")]) from None
    except _DuplicateKey as error:
        raise PolicyError([Problem(str(path), f"line {error.line}, column {error.column}",
                                   DUPLICATE_KEY % error.params, template=DUPLICATE_KEY, params=error.params,
                                   line=error.line, column=error.column)]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", error)
        raise PolicyError([Problem(str(path), where, NOT_YAML % {"reason": reason}, template=NOT_YAML,
                                   params={"reason": reason}, line=mark.line + 1 if mark else None,
                                   column=mark.column + 1 if mark else None)]) from None
    if not isinstance(data, dict):
        raise PolicyError([Problem(str(path), "", "must be a mapping of options (key: value)")])
    return data


def preset(name: str) -> dict[str, Any]:
    return _read_yaml(PRESET_DIR / f"{name}.yaml")


def parse(data: dict[str, Any], source: str) -> Organisation:
    """Validate a policy document (after merging its preset)."""
    preset_name = data.get("preset")
    if preset_name is not None:
        if not isinstance(preset_name, str) or not (PRESET_DIR / f"{preset_name}.yaml").is_file():
            known = ", ".join(sorted(p.stem for p in PRESET_DIR.glob("*.yaml")))
            raise PolicyError([Problem(source, "preset", f"unknown preset {preset_name!r} (known: {known})")])
        data = merge(preset(preset_name), data)
    try:
        return Organisation.model_validate(data)
    except ValidationError as error:
        raise PolicyError([_problem(source, e) for e in error.errors()]) from None


def _problem(source: str, error: Any) -> Problem:
    where = ".".join(str(part) for part in error["loc"])
    context = dict(error.get("ctx") or {})
    refusal = context.get("error")
    if isinstance(refusal, Refusal):
        return Problem(source, where, str(refusal), template=refusal.template, params=refusal.params)
    return Problem(source, where, error["msg"], kind=error["type"], params=context)


def load_file(path: Path) -> Organisation:
    policy = parse(_read_yaml(path), str(path))
    if path.stem != policy.slug:
        raise PolicyError([Problem(str(path), "slug", f"must match the file name ({path.stem!r})")])
    return policy


def load_folder(folder: Path) -> list[Organisation]:
    """Every policy in the folder, or a PolicyError listing the problems of all files at once."""
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise PolicyError([Problem(str(folder), "", "holds no policy file (*.yaml)")])
    policies, problems = [], []
    for path in files:
        try:
            policies.append(load_file(path))
        except PolicyError as error:
            problems.extend(error.problems)
    problems.extend(_duplicates(policies, files))
    if problems:
        raise PolicyError(problems)
    return policies


def _duplicates(policies: Iterable[Organisation], files: list[Path]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for policy in policies:
        for host in policy.hosts:
            if host in seen:
                problems.append(Problem(policy.slug, "hosts", f"{host!r} is already served by {seen[host]!r}"))
            seen[host] = policy.slug
    return problems


def fingerprint(policy: Organisation) -> str:
    """A stable digest of the validated policy: applying the same policy twice changes nothing."""
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_schema() -> dict[str, Any]:
    schema = Organisation.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://guichet.invalid/schema/organisation.schema.json"
    return schema
