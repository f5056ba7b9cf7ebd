"""Format-preserving edits: only the constraint's characters change, or nothing does."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.deps.npm.edit import ManifestEditError, apply_edits
from bot.deps.npm.manifest import parse_package_json

TEXT = (
    "{\n"
    '  "name": "app",\n'
    '  "dependencies": {\n'
    '    "react": "^16.8.0",\n'
    '    "lodash": "~4.17.15",\n'
    '    "old": "npm:left-pad@^1.1.0"\n'
    "  },\n"
    '  "devDependencies": {"jest": "26.6.3"}\n'
    "}\n"
)


def deps(text: str = TEXT) -> dict[str, object]:
    return {d.name: d for d in parse_package_json("package.json", text).dependencies}


def test_no_edits_is_identity() -> None:
    assert apply_edits(TEXT, []) == TEXT


def test_edits_change_only_their_spans() -> None:
    parsed = parse_package_json("package.json", TEXT).dependencies
    react, lodash, old, jest = parsed
    result = apply_edits(TEXT, [(lodash, "~4.17.21"), (react, "^19.2.0"), (jest, "30.2.0")])
    assert result == TEXT.replace("^16.8.0", "^19.2.0").replace("~4.17.15", "~4.17.21").replace("26.6.3", "30.2.0")
    alias = apply_edits(TEXT, [(old, "^1.3.0")])
    assert alias == TEXT.replace("npm:left-pad@^1.1.0", "npm:left-pad@^1.3.0")
    assert json.loads(alias)["dependencies"]["old"] == "npm:left-pad@^1.3.0"


def test_new_values_are_json_escaped() -> None:
    react = parse_package_json("package.json", TEXT).dependencies[0]
    result = apply_edits(TEXT, [(react, '>=1 "odd" \\ value')])
    assert '"react": ">=1 \\"odd\\" \\\\ value"' in result
    assert json.loads(result)["dependencies"]["react"] == '>=1 "odd" \\ value'


def test_bom_crlf_and_escaped_values() -> None:
    text = '\ufeff{\r\n\t"dependencies": {\r\n\t\t"react": "\\u005e16.8.0"\r\n\t}\r\n}\r\n'
    (react,) = parse_package_json("package.json", text).dependencies
    result = apply_edits(text, [(react, "^16.14.0")])
    assert result == text.replace("\\u005e16.8.0", "^16.14.0")
    assert result.startswith("\ufeff") and result.count("\r\n") == text.count("\r\n")


def test_stale_span_is_refused() -> None:
    react = parse_package_json("package.json", TEXT).dependencies[0]
    changed = TEXT.replace("^16.8.0", "^16.9.0")
    with pytest.raises(ManifestEditError, match="re-scan"):
        apply_edits(changed, [(react, "^17.0.0")])
    moved = replace(react, location=replace(react.location, start=react.location.start + 1))
    with pytest.raises(ManifestEditError):
        apply_edits(TEXT, [(moved, "^17.0.0")])
    outside = replace(react, location=replace(react.location, start=10_000, end=10_007))
    with pytest.raises(ManifestEditError, match="outside"):
        apply_edits(TEXT, [(outside, "^17.0.0")])


def test_overlapping_edits_are_refused() -> None:
    react = parse_package_json("package.json", TEXT).dependencies[0]
    with pytest.raises(ManifestEditError, match="overlap"):
        apply_edits(TEXT, [(react, "^17.0.0"), (react, "^18.0.0")])


def test_wrong_section_is_refused() -> None:
    react = parse_package_json("package.json", TEXT).dependencies[0]
    wrong = replace(react, location=replace(react.location, section="peerDependencies"))
    with pytest.raises(ManifestEditError, match="peerDependencies"):
        apply_edits(TEXT, [(wrong, "^17.0.0")])


def test_a_span_that_does_not_hold_the_dependencys_own_value_is_refused() -> None:
    text = '{"dependencies": {"a": "^1.0.0", "b": "^1.0.0"}}'
    a, b = parse_package_json("package.json", text).dependencies
    # b's name with a's span: the text there reads "^1.0.0" too, but the document would not change as intended.
    swapped = replace(b, location=a.location)
    with pytest.raises(ManifestEditError, match="b is not a string entry of `dependencies`"):
        apply_edits(text, [(swapped, "^2.0.0")])


def test_not_json_is_refused() -> None:
    react = parse_package_json("package.json", TEXT).dependencies[0]
    with pytest.raises(ManifestEditError):
        apply_edits("not json", [(react, "1")])
