"""npm API diff on real published packages: recorded version documents, packuments and tarballs, replayed by the
local registry server; the declarations read by the real TypeScript compiler."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest

from bot.breaking import npm_api
from bot.breaking.cache import MAX_ENTRY_BYTES, encode
from bot.breaking.fetch import AnalysisError
from bot.breaking.model import ApiChange, ApiDiff
from bot.breaking.npm_api import (
    exported_subpaths,
    npm_api_diff,
    pick_types_version,
    types_package,
)
from tests.support.declarations import declaration_changes
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
    # the most important first: the exports before their members, removed before deprecated
    assert list(diff.changes) == sorted(diff.changes, key=lambda c: npm_api._importance("react-dom", c))
    symbols = [c.symbol for c in diff.changes]
    assert symbols.index("react-dom.render") < symbols.index("react-dom/server.renderToNodeStream")


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


def test_the_dependencies_declarations_need(tmp_path: Path) -> None:
    """react-router-dom 7's index.d.ts is ``export * from 'react-router'``: without react-router's declarations
    every name it re-exports looked removed (Route, Link, BrowserRouter 'class removed' on a real app)."""
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.d.ts").write_text(
        "export { HydratedRouter, RouterProvider } from 'react-router/dom';\nexport * from 'react-router';\n"
        "export * as utils from '@scope/utils';\nimport type { Node } from 'typed';\nimport { thing } from 'plain';\n"
    )
    (tmp_path / "node_modules" / "dep").mkdir(parents=True)
    (tmp_path / "node_modules" / "dep" / "index.d.ts").write_text("export * from 'nested';\n")  # not ours
    dependencies = {
        "react-router": "7.18.7", "@scope/utils": "^1", "@types/typed": "^2", "plain": "^3", "@types/node": "*",
        "nested": "^1", "unused": "^4",
    }  # fmt: skip
    assert npm_api.wanted_dependencies(dependencies, tmp_path) == ["@scope/utils", "@types/typed", "react-router"]


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
    assert capped.source.endswith(f"(the 5 most important of {len(full.changes)} changes)")


def test_a_script_declaring_no_module_of_the_package_has_nothing_to_read() -> None:
    """mongoose's script read for another name declares nothing importable: not "no change", nothing read (the
    diff then says it could not analyse)."""
    from bot.breaking import typescript
    from tests.support.declarations import DECLARATIONS

    folder = DECLARATIONS / "mongoose6"
    entries = npm_api._entries(folder, json.loads((folder / "package.json").read_text()))
    for package, readable in (("mongoose", True), ("other", False)):
        job = {"root": str(folder), "package": package, "entries": entries}
        read = typescript.run({"command": "api", "jobs": [job]}, timeout=60)["jobs"][0]["entries"]
        assert bool(npm_api._symbols(read["."])) is readable, package


# -- declarations shaped like real ones (tests/fixtures/breaking/declarations), read by the real checker -------


def test_re_exported_names_a_major_removed() -> None:
    changes = {c.symbol: c for c in declaration_changes("react-router-dom", "router5", "router6")}

    # @types/react-router-dom 5 re-exports @types/react-router's Switch; react-router-dom 6 exports no Switch
    assert changes["react-router-dom.Switch"] == ApiChange("removed", "react-router-dom.Switch", "class removed")
    assert changes["react-router-dom.useHistory"].detail == "function removed"
    assert changes["react-router-dom.withRouter"].kind == "removed"
    # a class that became a function component: its members are gone
    assert changes["react-router-dom.BrowserRouter.setState"].kind == "removed"
    assert changes["react-router-dom.BrowserRouterProps.forceRefresh"].kind == "removed"
    # re-exported on both sides (react-router 6 is not read): not compared, nor the members v5 declared
    assert "react-router-dom.Route" not in changes and "react-router-dom.useLocation" not in changes
    assert not [s for s in changes if s.startswith(("react-router-dom.Route.", "react-router-dom.Router."))]
    # a value whose type comes from a package that is not read (React's): not known, so not "no longer callable"
    assert "react-router-dom.Link" not in changes


def test_the_cap_keeps_the_names_users_import(monkeypatch: pytest.MonkeyPatch) -> None:
    changes = declaration_changes("react-router-dom", "router5", "router6")
    monkeypatch.setattr(npm_api, "MAX_CHANGES", 5)

    kept, note = npm_api._kept("react-router-dom", reversed(changes))

    # alphabetically the members of BrowserRouter come first; the exports the target removed matter more
    assert [c.symbol for c in kept] == [
        "react-router-dom.Redirect",
        "react-router-dom.Switch",
        "react-router-dom.SwitchProps",
        "react-router-dom.useHistory",
        "react-router-dom.withRouter",
    ]
    assert note == f" (the 5 most important of {len(changes)} changes)"
    monkeypatch.setattr(npm_api, "MAX_CHANGES", len(changes))
    everything, none = npm_api._kept("react-router-dom", changes)
    assert none == "" and set(everything) == set(changes)


def test_importance_order() -> None:
    order = [
        ApiChange("removed", "p", "the package root is no longer exported"),
        ApiChange("removed", "p/sub", "removed from the exports map"),
        ApiChange("removed", "p.b", "function removed"),
        ApiChange("changed", "p.a", "no overload takes 1 argument any more (was (x))"),
        ApiChange("deprecated", "p.a2", "deprecated"),
        ApiChange("removed", "p/sub.x", "function removed"),
        ApiChange("removed", "p.A.m", "method removed"),
        ApiChange("deprecated", "p.A.b", "deprecated"),
        ApiChange("removed", "p/sub.A.m", "method removed"),
    ]
    assert sorted(reversed(order), key=lambda c: npm_api._importance("p", c)) == order
    # a package name with a dot: its members are counted after the name
    assert npm_api._importance("socket.io", ApiChange("removed", "socket.io.Server", ""))[0] == 2


def test_kept_changes_and_returns_fit_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    long = "x" * 5000
    changes = [ApiChange("removed", f"p.{'n' * (npm_api.MAX_SYMBOL_CHARS - 6)}{i:04}", long) for i in range(1000)]
    kept, _ = npm_api._kept("p", [*changes, ApiChange("removed", "p." + long, "gone")])
    assert len(kept) == npm_api.MAX_CHANGES
    assert all(len(c.detail) == npm_api.MAX_DETAIL and len(c.symbol) <= npm_api.MAX_SYMBOL_CHARS for c in kept)
    name = "f" * (npm_api.MAX_SYMBOL_CHARS - 2)
    symbols = {f"{name[:-4]}{i:04}": {"kind": "interface"} for i in range(1000)}
    entries = {".": {"symbols": symbols, "returns": dict.fromkeys(symbols, next(iter(symbols)))}}
    returns = npm_api._returns("p", entries)
    assert len(returns) == npm_api.MAX_RETURNS
    worst = ApiDiff("npm", "p", "1.0.0", "2.0.0", analysed=True, changes=kept, source="s" * 300, returns=returns)
    assert len(encode(worst)) <= MAX_ENTRY_BYTES


def test_what_a_function_written_for_a_type_receives() -> None:
    changes = {c.symbol: c for c in declaration_changes("react", "react17", "react18")}

    detail = "call signature: parameter 'props' type changed from PropsWithChildren<P> to P (no longer has 'children')"
    assert changes["react.FunctionComponent"] == ApiChange("changed", "react.FunctionComponent", detail)
    assert changes["react.FC"] == ApiChange("changed", "react.FC", detail)  # the alias of FunctionComponent<P>
    assert changes["react.ForwardRefRenderFunction"].detail == detail
    # not changes: a type with required members is made by the package (its callers may pass more); a handler's
    # event that gained members; a function's parameter that lost one (callers may still pass it)
    assert "react.ExoticComponent" not in changes
    assert "react.EventHandler" not in changes
    assert "react.createElement" not in changes
    assert "react.useState" not in changes and "react.Dispatch" not in changes
    assert len(changes) == 3


def test_declarations_of_an_ambient_module() -> None:
    # mongoose's types/index.d.ts is a global script with `declare module 'mongoose' { ... }`
    changes = {c.symbol: c for c in declaration_changes("mongoose", "mongoose6", "mongoose7")}

    assert changes == {
        "mongoose.Model.remove": ApiChange("removed", "mongoose.Model.remove", "method removed"),
        "mongoose.connect": ApiChange(
            "changed", "mongoose.connect", "no overload takes 3 arguments any more (was (uri, options, callback))"
        ),
    }
