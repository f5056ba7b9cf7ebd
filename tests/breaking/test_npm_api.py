"""npm API diff on real published packages: recorded version documents, packuments and tarballs, replayed by the
local registry server; the declarations read by the real TypeScript compiler."""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import pytest

from bot.breaking import npm_api
from bot.breaking.fetch import AnalysisError
from bot.breaking.model import ApiChange, ApiDiff
from bot.breaking.npm_api import (
    exported_subpaths,
    npm_api_diff,
    pick_types_version,
    types_package,
)
from tests.support.registry_server import Fault, RegistryServer

pytestmark = pytest.mark.usefixtures("typescript_compiler")


def by_symbol(diff: ApiDiff) -> dict[str, ApiChange]:
    return {c.symbol: c for c in diff.changes}


def served(registry: RegistryServer) -> list[str]:
    return [s.path for s in registry.served if s.status == 200]


def test_react_dom_19_removes_the_legacy_root_api(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("react-dom", "18.3.1", "19.1.0")

    assert diff.analysed, diff.why_not
    assert diff.source == "type declarations of @types/react-dom and the exports maps"
    changes = by_symbol(diff)
    for name in ("render", "hydrate", "unmountComponentAtNode", "findDOMNode", "unstable_renderSubtreeIntoContainer"):
        assert changes[f"react-dom.{name}"].kind == "removed", name
    assert changes["react-dom.findDOMNode"].detail == "function removed"
    assert changes["react-dom/server.renderToNodeStream"].kind == "removed"
    assert "react-dom.createPortal" not in changes and "react-dom/client.createRoot" not in changes
    # the newest @types of each major.minor, from @types/react-dom's packument
    assert "/@types/react-dom/-/react-dom-18.3.7.tgz" in served(registry_server)
    assert "/@types/react-dom/-/react-dom-19.1.11.tgz" in served(registry_server)
    assert ("react-dom/client.createRoot", "react-dom/client.Root") in diff.returns
    assert list(diff.changes) == sorted(diff.changes, key=lambda c: (c.symbol, c.kind, c.detail))


def test_react_dom_18_deprecates_render_with_the_reason(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("react-dom", "17.0.2", "18.3.1")

    assert diff.analysed, diff.why_not
    changes = by_symbol(diff)
    assert changes["react-dom.render"] == ApiChange(
        "deprecated",
        "react-dom.render",
        "deprecated: See https://react.dev/blog/2022/03/08/react-18-upgrade-guide#updates-to-client-rendering-apis",
    )
    assert changes["react-dom.hydrate"].kind == "deprecated"
    assert changes["react-dom.unmountComponentAtNode"].kind == "deprecated"
    assert changes["react-dom.flushSync"] == ApiChange(
        "changed", "react-dom.flushSync", "no overload takes 2 arguments any more (was (fn, a))"
    )
    assert not [c for c in diff.changes if c.kind == "removed"]
    assert [c for c in diff.breaking] == [changes["react-dom.flushSync"]]


def test_express_5_through_types_express_and_its_core(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("express", "4.21.2", "5.1.0")

    assert diff.analysed, diff.why_not
    assert diff.source == "type declarations of @types/express and the exports maps"
    changes = by_symbol(diff)
    # req.param and res.sendfile live in @types/express-serve-static-core, which @types/express re-exports
    assert changes["express.Request.param"] == ApiChange("removed", "express.Request.param", "method removed")
    assert changes["express.Response.sendfile"] == ApiChange("removed", "express.Response.sendfile", "method removed")
    assert changes["express.query"] == ApiChange("removed", "express.query", "function removed")
    assert changes["express.Application.param"] == ApiChange(
        "changed", "express.Application.param", "no overload takes 1 argument any more (was (callback))"
    )
    assert "express.Router" not in changes and "express.json" not in changes
    # @types/express 4.17 is the newest of major 4 (there is no @types/express 4.21)
    paths = served(registry_server)
    assert "/@types/express/-/express-4.17.25.tgz" in paths
    assert "/@types/express-serve-static-core/-/express-serve-static-core-4.19.9.tgz" in paths
    assert "/@types/express-serve-static-core/-/express-serve-static-core-5.1.3.tgz" in paths
    assert not any(p.startswith("/express/-/") for p in paths)  # express's own tarball is not needed
    assert ("express", "express.Express") in diff.returns
    assert ("express.Router", "express.Router") in diff.returns


def test_a_package_with_its_own_declarations_and_exports_map(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("nanoid", "3.3.11", "5.1.5")

    assert diff.analysed, diff.why_not
    assert diff.source == "type declarations of nanoid and the exports maps"
    assert by_symbol(diff)["nanoid/async"] == ApiChange("removed", "nanoid/async", "removed from the exports map")
    assert by_symbol(diff)["nanoid/url-alphabet"].kind == "removed"
    assert "nanoid.nanoid" not in by_symbol(diff) and "nanoid.customAlphabet" not in by_symbol(diff)
    assert not any(c.symbol.endswith("package.json") for c in diff.changes)
    assert not any("/@types/" in p for p in served(registry_server))


def test_the_same_answer_every_time(registry_server: RegistryServer) -> None:
    first = npm_api_diff("express", "4.21.2", "5.1.0")
    assert npm_api_diff("express", "4.21.2", "5.1.0") == first


def test_no_declarations_anywhere(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("delayed-stream", "0.0.7", "1.0.0")

    assert diff == ApiDiff(
        "npm",
        "delayed-stream",
        "0.0.7",
        "1.0.0",
        analysed=False,
        why_not="no type declarations in delayed-stream 0.0.7 or @types/delayed-stream",
    )


def test_a_release_the_registry_does_not_have(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("express", "4.21.2", "9.9.9")

    assert not diff.analysed and diff.changes == ()
    assert diff.why_not is not None
    assert diff.why_not.startswith("the release express 9.9.9:") and diff.why_not.endswith("answered HTTP 404")


def test_a_tarball_too_large(registry_server: RegistryServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npm_api, "MAX_TARBALL_BYTES", 2048)

    diff = npm_api_diff("nanoid", "3.3.11", "5.1.5")

    assert not diff.analysed
    assert diff.why_not == "the tarball of nanoid 3.3.11 is larger than 2 kB (7 kB)"


def test_a_registry_error_on_the_types_package(registry_server: RegistryServer) -> None:
    registry_server.inject("npm", "@types/express", Fault(status=503))

    diff = npm_api_diff("express", "4.21.2", "5.1.0")

    assert not diff.analysed
    assert diff.why_not is not None and "the versions of @types/express" in diff.why_not and "503" in diff.why_not


def test_the_deadline_ends_a_slow_download(registry_server: RegistryServer) -> None:
    registry_server.inject("npm", "@types/react-dom", Fault(delay=3.0))
    started = time.monotonic()

    diff = npm_api_diff("react-dom", "18.3.1", "19.1.0", deadline=started + 1.0)

    assert not diff.analysed
    assert diff.why_not is not None and "timed out" in diff.why_not
    assert time.monotonic() - started < 2.5


def test_a_deadline_already_passed(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("nanoid", "3.3.11", "5.1.5", deadline=time.monotonic() - 1)

    assert not diff.analysed
    assert diff.why_not == "the time for the analysis ran out"
    assert registry_server.total_requests == 0


def _tarball(members: list[tarfile.TarInfo], payloads: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info in members:
            data = payloads.get(info.name)
            if data is not None:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(info)
    return buffer.getvalue()


def test_unpacking_keeps_declarations_only_and_nothing_outside(tmp_path: Path) -> None:
    link = tarfile.TarInfo("package/link.d.ts")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("package/hard.d.ts")
    hard.type, hard.linkname = tarfile.LNKTYPE, "package/index.d.ts"
    names = ["package/index.d.ts", "package/../../escape.d.ts", "/abs.d.ts", "package/index.js", "package/package.json"]
    payloads = {name: b"export declare const x: number;\n" for name in names}
    payloads["package/package.json"] = b'{"name": "x"}'
    tarball = _tarball([*(tarfile.TarInfo(n) for n in names), link, hard], payloads)

    npm_api._unpack_declarations(tarball, tmp_path / "out", "x 1.0.0")

    kept = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert kept == ["out/index.d.ts", "out/package.json"]


def test_unpacking_refuses_too_many_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npm_api, "MAX_MEMBERS", 3)
    names = [f"package/f{i}.js" for i in range(5)]
    tarball = _tarball([tarfile.TarInfo(n) for n in names], dict.fromkeys(names, b"1"))

    with pytest.raises(AnalysisError, match=r"^the tarball of x 1.0.0 has more than 3 files$"):
        npm_api._unpack_declarations(tarball, tmp_path, "x 1.0.0")


def test_unpacking_refuses_too_many_declaration_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npm_api, "MAX_UNPACKED_BYTES", 100)
    tarball = _tarball([tarfile.TarInfo("package/index.d.ts")], {"package/index.d.ts": b"x" * 200})

    with pytest.raises(AnalysisError, match=r"declarations of x 1\.0\.0 are larger"):
        npm_api._unpack_declarations(tarball, tmp_path, "x 1.0.0")


def test_a_corrupt_tarball(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match=r"is not a readable tar\.gz"):
        npm_api._unpack_declarations(b"\x1f\x8b not gzip", tmp_path, "x 1.0.0")


def test_which_types_version() -> None:
    versions = ["4.16.0", "4.17.21", "4.17.25", "5.0.0", "5.0.6", "5.1.0-beta.1", "19.1.2", "19.1.11", "19.2.0"]
    assert pick_types_version(versions, "4.21.2") == "4.17.25"  # no 4.21: newest of the major
    assert pick_types_version(versions, "4.17.1") == "4.17.25"
    assert pick_types_version(versions, "5.1.0") == "5.0.6"
    assert pick_types_version(versions, "19.1.0") == "19.1.11"
    assert pick_types_version(versions, "3.0.0") is None


def test_types_package_names() -> None:
    assert types_package("express") == "@types/express"
    assert types_package("@babel/core") == "@types/babel__core"


def test_exported_subpaths() -> None:
    assert exported_subpaths({}) is None
    assert exported_subpaths({"exports": "./index.js"}) == {"."}
    assert exported_subpaths({"exports": {"import": "./a.mjs", "require": "./a.cjs"}}) == {"."}
    assert exported_subpaths({"exports": {".": "./a.js", "./lib/*": "./lib/*.js", "./internal/*": None}}) == {
        ".",
        "./lib/*",
    }


def test_a_types_field_is_resolved_as_typescript_resolves_it(tmp_path: Path) -> None:
    """@types/react-router 4.4.5 says ``"types": "index"``: the file is index.d.ts, not index/index.d.ts."""
    (tmp_path / "index.d.ts").write_text("export declare function matchPath(path: string): boolean;\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "index.d.ts").write_text("export {};\n")
    (tmp_path / "main.d.ts").write_text("export {};\n")
    assert npm_api._entries(tmp_path, {"types": "index"})["."] == "index.d.ts"
    assert npm_api._entries(tmp_path, {"types": "./lib"})["."] == "lib/index.d.ts"
    assert npm_api._entries(tmp_path, {"typings": "main.d.ts"})["."] == "main.d.ts"
    assert npm_api._entries(tmp_path, {"types": "main.js"})["."] == "main.d.ts"
    assert "." not in npm_api._entries(tmp_path, {"types": "absent"})


@pytest.mark.live
def test_live_registry_express_4_to_5() -> None:
    diff = npm_api_diff("express", "4.21.2", "5.1.0", deadline=time.monotonic() + 120)

    assert diff.analysed, diff.why_not
    assert by_symbol(diff)["express.Request.param"].kind == "removed"


def test_the_package_root_leaving_the_exports() -> None:
    changes = npm_api._exports_changes
    assert list(changes("p", {"main": "index.js"}, {"main": "index.js", "exports": {"./x": "./x.js"}})) == [
        ApiChange("removed", "p", "the package root is no longer exported (its exports map has no '.')")
    ]
    assert list(changes("p", {"main": "index.js"}, {"main": "index.js", "exports": "./index.js"})) == []
    assert list(changes("p", {"main": "a.js", "module": "a.mjs"}, {})) == [
        ApiChange("removed", "p", "the 'main', 'module' entry is gone and no exports map replaces it")
    ]
    assert list(changes("p", {"main": "a.js"}, {"module": "a.mjs"})) == []


def test_changes_are_capped_and_say_so(registry_server: RegistryServer, monkeypatch: pytest.MonkeyPatch) -> None:
    full = npm_api_diff("react-dom", "18.3.1", "19.1.0")
    monkeypatch.setattr(npm_api, "MAX_CHANGES", 5)

    capped = npm_api_diff("react-dom", "18.3.1", "19.1.0")

    assert capped.changes == full.changes[:5]
    assert capped.source.endswith(f"(the first 5 of {len(full.changes)} changes)")


AMBIENT_INDEX = """/// <reference path="./models.d.ts" />

declare class NativeDate extends global.Date { }

declare module 'mongoose' {
  export function model(name: string): Model;
  export const version: string;
}
"""
AMBIENT_MODELS = """declare module 'mongoose' {
  interface Model {
    deleteOne(): Promise<void>;
%s  }
}
"""


def test_declarations_of_an_ambient_module_are_read(tmp_path: Path) -> None:
    """mongoose's types/index.d.ts is a script of /// <reference>s declaring ``module 'mongoose'``: no module of
    its own, so its exports are those of the ambient module named like the package (7.0 removed Model.remove)."""
    from bot.breaking import typescript

    for version, extra in (("6", "    remove(): Promise<void>;\n"), ("7", "")):
        (tmp_path / version).mkdir()
        (tmp_path / version / "index.d.ts").write_text(AMBIENT_INDEX)
        (tmp_path / version / "models.d.ts").write_text(AMBIENT_MODELS % extra)
    jobs = [{"root": str(tmp_path / v), "entries": {".": "index.d.ts"}, "package": "mongoose"} for v in ("6", "7")]
    old, new = (job["entries"] for job in typescript.run({"command": "api", "jobs": jobs}, timeout=60)["jobs"])

    assert set(old["."]["symbols"]) >= {"model", "version", "Model", "Model.remove", "Model.deleteOne"}
    changes = list(npm_api._declaration_changes("mongoose", old, new))
    assert changes == [ApiChange("removed", "mongoose.Model.remove", "method removed")]
    # a script that declares no module of that name has nothing to import: the diff says it cannot tell
    other = [{**job, "package": "other"} for job in jobs]
    unread = typescript.run({"command": "api", "jobs": other}, timeout=60)["jobs"][0]["entries"]
    assert not npm_api._symbols(unread["."])
