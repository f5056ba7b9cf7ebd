"""The schema, the defaults file, the example and the generated docs agree with each other and with the
model."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from config import docs
from config.files import defaults_text, schema
from config.loader import default_config, load_config, validate
from config.messages import PATTERN_HINTS
from config.model import Config, CorePackages, Match, Phase

FREE_FORM = {"weights"}  # the only mapping whose keys are not fixed: risk factor ids


def _objects(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{path}/{index}")


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_the_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_object_is_closed_and_every_property_described() -> None:
    objects = list(_objects(schema()))
    assert len(objects) > 10
    for path, node in objects:
        assert node.get("additionalProperties") is False, path
        for name, prop in node["properties"].items():
            assert isinstance(prop.get("description"), str) and len(prop["description"]) > 15, f"{path}.{name}"
    weights = schema()["properties"]["risk"]["properties"]["weights"]
    assert weights["additionalProperties"]["type"] == "integer" and "propertyNames" in weights


def test_every_pattern_has_a_hint_for_messages() -> None:
    patterns = set(_patterns(schema()))
    assert patterns and patterns <= set(PATTERN_HINTS)


def test_schema_options_are_the_model_fields() -> None:
    assert list(schema()["properties"]) == [field.name for field in dataclasses.fields(Config)]
    assert list(schema()["$defs"]["match"]["properties"]) == [field.name for field in dataclasses.fields(Match)]


def test_the_defaults_file_validates() -> None:
    assert validate(defaults_text(), "config/defaults.yml") == ()
    assert list(yaml.safe_load(defaults_text())) == list(schema()["properties"])


def test_the_defaults_are_the_model_defaults_plus_phases_and_core_packages() -> None:
    config = default_config()
    assert dataclasses.replace(config, phases=(), core_packages=CorePackages()) == Config()
    assert config.phases == (
        Phase("low", "Low-risk updates", Match(update_types=("patch", "minor"), core=False, risk=("low", "medium"))),
        Phase(
            "build-dev",
            "Build and dev tooling",
            Match(dependency_types=("dev", "build"), core=False, update_types=("major", "minor", "patch")),
        ),
        Phase("core-runtime", "Core frameworks and runtime majors", Match(update_types=("major", "minor", "patch")), 1),
        Phase("integration", "Integration (lockfile maintenance)", Match(update_types=("lockfile",))),
    )
    assert "django" in config.core_packages.python and "@angular/*" in config.core_packages.npm
    assert (len(config.core_packages.python), len(config.core_packages.npm)) == (14, 18)


def test_the_example_validates_and_sets_every_option() -> None:
    text = resources.files("config").joinpath("example.yml").read_text(encoding="utf-8")
    config = load_config(text, "example.yml")
    example = yaml.safe_load(text)
    for path, node in _objects(schema()):
        if path == "/$defs/match":
            where = [entry["match"] for entry in [*example["phases"], *example["groups"]] if "match" in entry]
        else:
            where = _example_values(example, path)
        for name in node["properties"]:
            assert any(isinstance(value, dict) and name in value for value in where), f"{path}: {name}"
    assert config.core_packages.python[-1] == "wagtail" and "numpy" not in config.core_packages.python


def _example_values(example: Any, schema_path: str) -> list[Any]:
    """The example's values at a schema path like /properties/health_check/properties/urls/items."""
    values = [example]
    for name in schema_path.strip("/").split("/")[1::2]:
        values = [value[name] for value in values if isinstance(value, dict) and name in value]
        values = [item for value in values for item in (value if isinstance(value, list) else [value])]
    return values


def test_the_docs_are_up_to_date() -> None:
    assert docs.DOCS_FILE.read_text(encoding="utf-8") == docs.render(), "run: python -m config.docs"


def test_the_docs_name_every_option() -> None:
    text = docs.render()
    for path, node in _objects(schema()):
        for name in node["properties"]:
            assert f"{name}`" in text, f"{path}.{name}"
