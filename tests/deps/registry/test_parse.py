"""Registry documents (recorded real answers) into PackageInfo: exact values for a few known packages."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from bot.deps.model import Ecosystem, Release
from bot.deps.registry import codec
from bot.deps.registry.failures import MalformedAnswer, PackageGone
from bot.deps.registry.links import repository_url, url_kind
from bot.deps.registry.npm import packument_path, parse_npm, parse_npm_body
from bot.deps.registry.parsed import Parsed, PeerDependency
from bot.deps.registry.pypi import json_path, parse_pypi
from tests.support.registry_server import load_recorded, recorded_names

OLD_PY = ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*"


def pypi(name: str) -> Parsed:
    return parse_pypi(load_recorded("python", name)["body"])


def npm(name: str) -> Parsed:
    return parse_npm(load_recorded("npm", name)["body"])


def release(parsed: Parsed, version: str) -> Release:
    return next(r for r in parsed.info.releases if r.version == version)


def test_pypi_requests_versions_yanked_and_requires_python() -> None:
    info = pypi("requests").info
    assert info.ecosystem is Ecosystem.PYTHON
    assert info.name == "requests"
    assert len(info.releases) == 160
    assert info.releases[0].version == "0.2.0"
    assert info.dist_tags == (("latest", "2.34.2"),)
    assert info.releases[-1].version == "2.34.2"
    assert info.urls == (("Source", "https://github.com/psf/requests"),)  # Documentation is not kept
    assert release(pypi("requests"), "2.22.0") == Release(
        "2.22.0", datetime(2019, 5, 16, 14, 37, 14, 357166, tzinfo=UTC), requires_python=OLD_PY
    )
    yanked = release(pypi("requests"), "2.32.0")
    assert yanked.yanked is True
    assert yanked.yanked_reason == "Yanked due to conflicts with CVE-2024-35195 mitigation"
    assert yanked.published == datetime(2024, 5, 20, 16, 8, 19, 530618, tzinfo=UTC)
    assert yanked.requires_python == ">=3.8"
    assert release(pypi("requests"), "2.32.2").yanked is False


def test_pypi_flask_publish_time_is_the_earliest_file_and_links_keep_labels() -> None:
    flask = pypi("flask")
    assert flask.info.name == "Flask"
    assert release(flask, "1.1.2") == Release(
        "1.1.2", datetime(2020, 4, 3, 17, 17, 53, 739219, tzinfo=UTC), requires_python=OLD_PY
    )
    assert flask.info.urls == (
        ("Changes", "https://flask.palletsprojects.com/page/changes/"),
        ("Source", "https://github.com/pallets/flask/"),
    )
    assert release(flask, "0.1").published == datetime(2010, 4, 16, 14, 29, 37, 458396, tzinfo=UTC)


def test_pypi_versions_are_sorted_by_pep440_and_fileless_releases_are_skipped() -> None:
    document = load_recorded("python", "numpy")["body"]
    fileless = {version for version, files in document["releases"].items() if not files}
    assert {"1.0b1", "1.0rc1", "1.4.0"} <= fileless
    info = parse_pypi(document).info
    versions = [r.version for r in info.releases]
    assert not fileless & set(versions)
    assert len(versions) == len(document["releases"]) - len(fileless)
    assert versions.index("1.9.3") < versions.index("1.10.0") < versions.index("2.0.0")
    assert info.releases[-1].version == "2.5.5"
    assert release(Parsed(info), "2.0.0").requires_python == ">=3.9"
    assert ("release notes", "https://numpy.org/doc/stable/release") in info.urls


def test_pypi_pywin32_integer_versions_and_django_links() -> None:
    pywin32 = pypi("pywin32").info
    assert [r.version for r in pywin32.releases][:3] == ["222", "223", "224"]
    assert pywin32.dist_tags == (("latest", "312"),)
    django = pypi("django").info
    assert ("Release notes", "https://docs.djangoproject.com/en/stable/releases/") in django.urls
    assert ("Homepage", "https://www.djangoproject.com/") in django.urls


def test_pypi_invalid_version_is_skipped_not_fatal() -> None:
    document = copy.deepcopy(load_recorded("python", "flask")["body"])
    document["releases"]["not a version!"] = document["releases"]["1.1.2"]
    document["releases"]["1.1.2-weird"] = "not a list"
    info = parse_pypi(document).info
    assert len(info.releases) == len(pypi("flask").info.releases)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "the answer is not a JSON object"),
        ({"info": {}, "releases": {}}, "info.name or info.version is missing"),
        ({"info": {"name": "x", "version": "1"}, "releases": []}, "releases is not a JSON object"),
        ({"releases": {}}, "info is not a JSON object"),
    ],
)
def test_pypi_wrong_shapes_are_malformed(document: Any, message: str) -> None:
    with pytest.raises(MalformedAnswer, match=message):
        parse_pypi(document)


def test_npm_express_versions_engines_times_and_links() -> None:
    express = npm("express")
    info = express.info
    assert info.ecosystem is Ecosystem.NPM
    assert info.name == "express"
    assert info.dist_tags == (("latest", "5.3.0"),)
    assert release(express, "4.17.1") == Release(
        "4.17.1", datetime(2024, 11, 22, 23, 22, 25, 349000, tzinfo=UTC), engines_node=">= 0.10.0"
    )
    assert release(express, "5.0.0").engines_node == ">= 18"
    assert info.releases[-1].version == "5.3.0"
    assert info.urls == (("homepage", "https://expressjs.com/"), ("repository", "https://github.com/expressjs/express"))


def test_npm_versions_npm_semver_rejects_are_skipped() -> None:
    document = load_recorded("npm", "express")["body"]
    versions = [r.version for r in parse_npm(document).info.releases]
    assert "1.0.0rc4" in document["versions"]  # real, from 2010, not valid semver
    assert "1.0.0rc4" not in versions
    assert len(versions) == len(document["versions"]) - 28


def test_npm_prereleases_sort_by_semver_precedence() -> None:
    versions = [r.version for r in npm("typescript").info.releases]
    order = ["5.0.0-beta", "5.0.0-dev.20230220", "5.0.0-dev.20230226", "5.0.1-rc", "5.0.2", "5.0.3", "5.1.3"]
    assert [versions.index(v) for v in order] == sorted(versions.index(v) for v in order)
    assert dict(npm("typescript").info.dist_tags)["latest"] == "7.0.2"


def test_npm_scoped_package_and_peer_dependencies() -> None:
    node_types = npm("@types/node").info
    assert node_types.name == "@types/node"
    assert len(node_types.releases) == 2346
    assert ("repository", "https://github.com/DefinitelyTyped/DefinitelyTyped") in node_types.urls
    ws = npm("ws")
    assert ws.peers["8.18.0"] == (
        PeerDependency("bufferutil", "^4.0.1", optional=True),
        PeerDependency("utf-8-validate", ">=5.0.2", optional=True),
    )
    assert release(ws, "8.18.0").engines_node == ">=10.0.0"
    assert release(ws, "8.18.0").published == datetime(2024, 8, 1, 2, 51, 31, 83000, tzinfo=UTC)
    assert npm("eslint").peers["10.15.0"] == (PeerDependency("jiti", "*", optional=True),)
    assert "8.18.0" not in npm("express").peers


def test_npm_deprecated_message_from_a_recorded_document_with_one_version_deprecated() -> None:
    # The npm registry reachable when recording sent no deprecation messages (INDEX.json "caveats"): this takes
    # the recorded eslint document and deprecates one version the way the public registry does.
    document = copy.deepcopy(load_recorded("npm", "eslint")["body"])
    message = "This version is no longer supported. Please see https://eslint.org/version-support for other options."
    document["versions"]["8.57.0"]["deprecated"] = message
    document["versions"]["8.56.0"]["deprecated"] = ""  # npm's way of un-deprecating
    parsed = parse_npm(document)
    assert release(parsed, "8.57.0").deprecated == message
    assert release(parsed, "8.57.0").engines_node == "^12.22.0 || ^14.17.0 || >=16.0.0"
    assert release(parsed, "8.56.0").deprecated is None
    assert release(npm("react"), "16.14.0").deprecated is None  # recorded as "deprecated": false


def test_npm_unpublished_package_and_wrong_shapes() -> None:
    with pytest.raises(PackageGone):
        parse_npm({"name": "gone", "time": {"unpublished": {"time": "2024-01-01T00:00:00Z", "versions": ["1.0.0"]}}})
    with pytest.raises(MalformedAnswer, match="versions is not a JSON object"):
        parse_npm({"name": "x", "versions": []})
    with pytest.raises(MalformedAnswer, match="no name"):
        parse_npm({"versions": {}})
    parsed = parse_npm({"name": "x", "versions": {"1.0.0": "nope", "2.0.0": {"engines": ["node >=0.4"]}}})
    assert parsed.info.releases == (Release("2.0.0", engines_node=">=0.4"),)


def test_every_recorded_document_parses_and_survives_the_cache_codec() -> None:
    for ecosystem, parse in (("python", parse_pypi), ("npm", parse_npm)):
        for name in recorded_names(ecosystem):
            parsed = parse(load_recorded(ecosystem, name)["body"])
            assert parsed.info.releases, name
            assert codec.decode_parsed(codec.encode_parsed(parsed), None) == parsed


def test_request_paths() -> None:
    assert json_path("Typing_Extensions") == "/pypi/typing-extensions/json"
    assert packument_path("@types/node") == "/@types%2fnode"
    assert packument_path("express") == "/express"


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("Changes", "changelog"),
        ("Release Notes", "release_notes"),
        ("Source Code", "source"),
        ("Homepage", "homepage"),
        ("Bug Tracker", "issues"),
        ("Documentation", None),
        ("Donate", None),
    ],
)
def test_url_kinds(label: str, kind: str | None) -> None:
    assert url_kind(label) == kind


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("git+https://github.com/expressjs/express.git", "https://github.com/expressjs/express"),
        ("git://github.com/a/b.git", "https://github.com/a/b"),
        ("git+ssh://git@github.com/a/b.git", "https://github.com/a/b"),
        ("git@github.com:a/b.git", "https://github.com/a/b"),
        ("github:a/b", "https://github.com/a/b"),
        ("a/b", "https://github.com/a/b"),
        ("gitlab:a/b", "https://gitlab.com/a/b"),
        ("https://example.org/x/", "https://example.org/x"),
    ],
)
def test_repository_urls(value: str, url: str) -> None:
    assert repository_url(value) == url


def test_simple_order_key_sorts_as_packaging_does() -> None:
    """``simple.order_key`` (plain tuples, no Version for number-only versions) orders as packaging does."""
    import random

    from packaging.version import Version

    from bot.deps.registry.simple import order_key

    texts = [
        "1.0", "1.0.0", "1.0.post1", "1.0.post1.dev2", "1.0.dev1", "1.0a1", "1.0a1.dev1", "1.0a2", "1.0b1",
        "1.0rc1", "1.0rc1.post1", "1.0+local.7", "1.0+local.abc", "1.0+5", "1!0.5", "0.0", "0", "2.10", "2.9",
        "01.2", "1.2.3.4.5", "v1.1", "1.1-1", "1.0.0+ubuntu1", "10.0", "1.0.0.0.1", "0.0.0.1",
    ]  # fmt: skip
    random.Random(7).shuffle(texts)
    assert order_key("not a version") is None and order_key("1..2") is None and order_key("") is None
    ours = sorted(texts, key=lambda t: order_key(t))  # type: ignore[arg-type, return-value]
    theirs = sorted(texts, key=Version)
    assert [Version(t) for t in ours] == [Version(t) for t in theirs]


def test_npm_fields_read_from_the_bytes_equal_the_whole_document_read() -> None:
    for name in recorded_names("npm"):
        body = orjson.dumps(load_recorded("npm", name)["body"])
        assert parse_npm_body(body) == parse_npm(orjson.loads(body)), name


@pytest.mark.parametrize(
    "document",
    [
        {"name": "p", "versions": {"1.0.0": None, "1.1.0": {"deprecated": True}}, "time": {"1.1.0": "2020-01-01"}},
        {"name": "p", "versions": {"1.0.0": "not an object", "2.0.0": {"engines": ["node >= 8"]}}},
        {"name": "p", "versions": {"1.0.0": {"peerDependencies": {"a": "^1", "b": 2}, "repository": "u/r"}}},
        {"name": "p", "time": {"unpublished": {"time": "2020-01-01"}}},
        {"name": "p", "versions": None},
        {"versions": {}},
    ],
)
def test_npm_odd_shapes_read_from_the_bytes_as_from_the_document(document: dict[str, Any]) -> None:
    body = orjson.dumps(document)
    try:
        expected: object = parse_npm(copy.deepcopy(document))
    except (MalformedAnswer, PackageGone) as exc:
        with pytest.raises(type(exc), match=str(exc)):
            parse_npm_body(body)
    else:
        assert parse_npm_body(body) == expected
