"""What CI published for one commit, read through the Actions API: the workflow runs of the commit, their
artifacts, each downloaded as the zip GitHub serves, bounded in size, and only the members whose names are known
coverage reports, or JSON documents shaped like benchmark results. Nothing in an artifact is executed or
unpacked to disk. A parsed artifact is kept in Redis by its id (an artifact never changes), so a results comment
edited after every check does not download it again.

Limits: artifacts whose listed size is over ``max_bytes`` are skipped unread; a download is cut off past
``max_bytes``; a member is read only if its declared size is under ``MAX_MEMBER_BYTES`` and it inflates to no
more than that (a zip bomb stops at the limit); at most ``MAX_MEMBERS`` members and ``max_count`` artifacts a
commit. Each refusal becomes a note the results comment shows.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any

from redis import Redis

from bot.errors import GitHubError, ValidationInputError
from bot.github.client import InstallationClient, TooLarge, download_bounded, json_body
from bot.repos.registry import RepoRecord
from bot.validation import benchmarks, coverage
from bot.validation.benchmarks import Measurement
from bot.validation.coverage import COVERAGE_FILES, Coverage

MAX_MEMBERS = 200
MAX_MEMBER_BYTES = 8 * 1024 * 1024
MAX_RUNS = 20
CACHE_PREFIX = "depup:artifact:"
CACHE_TTL = 14 * 24 * 3600


@dataclass(frozen=True)
class ArtifactLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_count: int = 10


@dataclass(frozen=True)
class ArtifactContent:
    """What depup read from one artifact."""

    name: str
    coverage: tuple[Coverage, ...] = ()
    benchmarks: tuple[Measurement, ...] = ()
    formats: tuple[str, ...] = ()  # benchmark formats found
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommitOutputs:
    """Every artifact depup could read for a commit, and why others were not read."""

    sha: str
    artifacts: tuple[ArtifactContent, ...] = ()
    notes: tuple[str, ...] = ()
    runs: int = 0  # completed workflow runs seen
    pending_runs: int = 0

    def coverage(self) -> Coverage | None:
        found = [c for a in self.artifacts for c in a.coverage]
        return found[0] if found else None

    def benchmarks(self) -> dict[str, Measurement]:
        """Measurements by name; a name in several artifacts is prefixed with its artifact's name."""
        carrying = [a for a in self.artifacts if a.benchmarks]
        if len(carrying) == 1:
            return {m.name: m for m in carrying[0].benchmarks}
        return {f"{a.name}/{m.name}": m for a in carrying for m in a.benchmarks}

    def formats(self) -> tuple[str, ...]:
        return tuple(sorted({f for a in self.artifacts for f in a.formats}))


def read_commit(
    gh: InstallationClient, record: RepoRecord, redis: Redis, sha: str, limits: ArtifactLimits
) -> CommitOutputs:
    """The artifacts of the completed workflow runs of ``sha``."""
    try:
        listing: dict[str, Any] = json_body(
            gh.rest.actions.list_workflow_runs_for_repo(record.owner, record.name, head_sha=sha, per_page=MAX_RUNS)
        )
    except GitHubError as e:
        return CommitOutputs(sha, notes=(f"workflow runs of {sha[:7]} could not be listed: {e}",))
    runs = [r for r in listing.get("workflow_runs", []) if r.get("head_sha") == sha]
    done = [r for r in runs if r.get("status") == "completed"]
    contents: list[ArtifactContent] = []
    notes: list[str] = []
    for run in done:
        try:
            found: dict[str, Any] = json_body(
                gh.rest.actions.list_workflow_run_artifacts(record.owner, record.name, int(run["id"]), per_page=100)
            )
        except GitHubError as e:
            notes.append(f"artifacts of run {run.get('id')} could not be listed: {e}")
            continue
        for artifact in found.get("artifacts", []):
            if len(contents) >= limits.max_count:
                notes.append(f"more than {limits.max_count} artifacts on {sha[:7]}: the rest were not read")
                break
            contents.append(_artifact(gh, record, redis, artifact, limits))
    return CommitOutputs(sha, tuple(contents), tuple(notes), len(done), len(runs) - len(done))


def _artifact(
    gh: InstallationClient, record: RepoRecord, redis: Redis, artifact: dict[str, Any], limits: ArtifactLimits
) -> ArtifactContent:
    name, artifact_id = str(artifact.get("name")), int(artifact.get("id", 0))
    size = int(artifact.get("size_in_bytes") or 0)
    if artifact.get("expired"):
        return ArtifactContent(name, notes=(f"artifact `{name}` has expired",))
    if size > limits.max_bytes:
        return ArtifactContent(
            name, notes=(f"artifact `{name}` ({_mb(size)}) is over the {_mb(limits.max_bytes)} limit",)
        )
    key = f"{CACHE_PREFIX}{record.full_name}:{artifact_id}"
    kept = redis.get(key)
    if kept is not None:
        return _from_json(kept)
    try:
        data = download(gh, record, artifact_id, limits.max_bytes, name)
        content = read_zip(name, data)
    except ValidationInputError as e:
        content = ArtifactContent(name, notes=(str(e),))
    except GitHubError as e:
        return ArtifactContent(name, notes=(f"artifact `{name}` could not be downloaded: {e}",))
    redis.set(key, json.dumps(asdict(content)), ex=CACHE_TTL)
    return content


def download(gh: InstallationClient, record: RepoRecord, artifact_id: int, max_bytes: int, name: str) -> bytes:
    """The artifact's zip (GitHub redirects to its storage), cut off past ``max_bytes``."""
    path = f"/repos/{record.owner}/{record.name}/actions/artifacts/{artifact_id}/zip"
    try:
        return download_bounded(gh, path, max_bytes)
    except TooLarge:
        raise ValidationInputError(f"artifact `{name}` is larger than the {_mb(max_bytes)} limit") from None


def read_zip(name: str, data: bytes) -> ArtifactContent:
    """The coverage reports and benchmark results among the members of an artifact's zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValidationInputError(f"artifact `{name}` is not a zip archive") from None
    found_coverage: list[Coverage] = []
    found_benchmarks: list[Measurement] = []
    formats: list[str] = []
    notes: list[str] = []
    members = [i for i in archive.infolist() if not i.is_dir()]
    if len(members) > MAX_MEMBERS:
        notes.append(f"artifact `{name}` has {len(members)} files: only the first {MAX_MEMBERS} were looked at")
    for info in members[:MAX_MEMBERS]:
        base = PurePosixPath(info.filename).name.lower()
        kind = COVERAGE_FILES.get(base)
        if kind is None and not base.endswith(".json"):
            continue
        source = f"`{info.filename}` in artifact `{name}`"
        try:
            text = _member(archive, info, source)
            if kind is not None:
                found_coverage.append(coverage.parse(kind, text, source))
                continue
            results = benchmarks.detect(text, source)
        except ValidationInputError as e:
            notes.append(str(e))
            continue
        if results is not None:
            found_benchmarks.extend(results.measurements)
            formats.append(results.format)
    return ArtifactContent(name, tuple(found_coverage), tuple(found_benchmarks), tuple(formats), tuple(notes))


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> str:
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValidationInputError(f"{source} ({_mb(info.file_size)}) is over the {_mb(MAX_MEMBER_BYTES)} file limit")
    try:
        with archive.open(info) as member:
            data = member.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as e:
        raise ValidationInputError(f"{source} could not be read: {e}") from None
    if len(data) > MAX_MEMBER_BYTES:
        raise ValidationInputError(f"{source} inflates past the {_mb(MAX_MEMBER_BYTES)} file limit")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationInputError(f"{source} is not UTF-8 text") from None


def _from_json(raw: bytes | str) -> ArtifactContent:
    data = json.loads(raw)
    return ArtifactContent(
        data["name"],
        tuple(Coverage(**c) for c in data["coverage"]),
        tuple(Measurement(**m) for m in data["benchmarks"]),
        tuple(data["formats"]),
        tuple(data["notes"]),
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
