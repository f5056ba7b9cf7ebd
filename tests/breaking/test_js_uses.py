"""Uses of changed npm API in small real-looking apps (tests/fixtures/breaking/apps), against diffs computed from
recorded real releases; the apps' files are read by the TypeScript parser, never run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.breaking import js_uses as js_uses_module
from bot.breaking import npm_api
from bot.breaking.js_uses import js_uses, source_files
from bot.breaking.model import ApiChange, ApiDiff
from bot.breaking.npm_api import npm_api_diff
from tests.support.declarations import declaration_diff
from tests.support.registry_server import RegistryServer

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "breaking" / "apps"

pytestmark = pytest.mark.usefixtures("typescript_compiler")


def found(uses: tuple[object, ...]) -> list[tuple[str, int, str]]:
    return [(u.file, u.line, u.symbol) for u in uses]  # type: ignore[attr-defined]


def test_react_17_app_on_react_dom_19(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("react-dom", "17.0.2", "19.1.0")
    assert diff.analysed, diff.why_not

    uses, scanned = js_uses(APPS / "react17", "react-dom", diff)

    # index.js, App.js, Modal.jsx, TodoList.tsx, setupTests.js; not build/, node_modules/ or the minified bundle
    assert scanned == 5
    assert found(uses) == [
        ("src/components/Modal.jsx", 2, "react-dom.findDOMNode"),  # import { createPortal, findDOMNode }
        ("src/components/Modal.jsx", 6, "react-dom.findDOMNode"),  # findDOMNode(this)
        ("src/components/TodoList.tsx", 2, "react-dom.hydrate"),  # import { hydrate as hydrateList }
        ("src/components/TodoList.tsx", 12, "react-dom.hydrate"),  # hydrateList(...)
        ("src/index.js", 8, "react-dom.render"),  # ReactDOM.render( (default import)
        ("src/index.js", 17, "react-dom.unmountComponentAtNode"),
        ("src/index.js", 18, "react-dom.render"),
        ("src/setupTests.js", 2, "react-dom.render"),  # const { render: mount } = require('react-dom')
        ("src/setupTests.js", 6, "react-dom.render"),  # mount(element, div)
        ("src/setupTests.js", 7, "react-dom.unmountComponentAtNode"),  # ReactDOM.unmountComponentAtNode
    ]
    assert {u.detail for u in uses} == {"function removed", "variable removed"}


def test_express_4_app_on_express_5(registry_server: RegistryServer) -> None:
    diff = npm_api_diff("express", "4.21.2", "5.1.0")
    assert diff.analysed, diff.why_not

    uses, scanned = js_uses(APPS / "express4", "express", diff)

    assert scanned == 3  # app.js, routes/items.ts, lib/static.mjs; not vendor/
    assert found(uses) == [
        ("app.js", 5, "express.query"),  # const { query } = require('express')
        ("app.js", 10, "express.query"),  # app.use(query(...))
        # app.param('id', handler) at line 14 passes 2 arguments: the removed 1-argument form does not apply
        ("app.js", 20, "express.Request.param"),  # req.param('who') in a route callback
        ("app.js", 24, "express.Response.sendfile"),  # res.sendfile(...) in a function callback
        ("routes/items.ts", 7, "express.Request.param"),  # (req: Request) annotation
        ("routes/items.ts", 12, "express.Response.sendfile"),  # (res: express.Response)
    ]
    assert uses[2].detail == "method removed"


def test_import_forms_and_subpaths(registry_server: RegistryServer, tmp_path: Path) -> None:
    diff = npm_api_diff("nanoid", "3.3.11", "5.1.5")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ids.mjs").write_text(
        "// import { nanoid } from 'nanoid/async'\n"
        "import { nanoid as asyncId } from 'nanoid/async';\n"
        "import { urlAlphabet } from 'nanoid/url-alphabet';\n"
        "import { nanoid } from 'nanoid';\n"
        "export const make = () => asyncId() || nanoid(urlAlphabet.length);\n"
        "const lazy = () => import('nanoid/async');\n"
    )
    (tmp_path / "src" / "legacy.cjs").write_text(
        "const s = `template ${require('nanoid')}`;\nconst { customAlphabet } = require(\"nanoid/async\");\n"
    )

    uses, scanned = js_uses(tmp_path, "nanoid", diff)

    assert scanned == 2
    assert found(uses) == [
        ("src/ids.mjs", 2, "nanoid/async"),
        ("src/ids.mjs", 3, "nanoid/url-alphabet"),
        ("src/ids.mjs", 5, "nanoid/async"),  # asyncId(), a name imported from the removed subpath
        ("src/ids.mjs", 5, "nanoid/url-alphabet"),  # urlAlphabet.length
        ("src/ids.mjs", 6, "nanoid/async"),  # import('nanoid/async')
        ("src/legacy.cjs", 2, "nanoid/async"),
    ]


def test_esm_default_import_of_a_commonjs_package(registry_server: RegistryServer, tmp_path: Path) -> None:
    diff = npm_api_diff("express", "4.21.2", "5.1.0")
    (tmp_path / "server.mts").write_text(
        "import express from 'express';\n"
        "import type { Request } from 'express';\n"
        "const app = express();\n"
        "app.param('id', (req, res, next) => next());\n"
        "app.use(express.query({}));\n"
        "export const who = (req: Request) => req.param('who');\n"
        "app.get('/', (req, res) => res.sendfile('index.html'));\n"
    )

    uses, _ = js_uses(tmp_path, "express", diff)

    assert found(uses) == [
        ("server.mts", 5, "express.query"),
        ("server.mts", 6, "express.Request.param"),
        ("server.mts", 7, "express.Response.sendfile"),
    ]


def test_esm_default_export() -> None:
    diff = ApiDiff(
        "npm",
        "chart",
        "1.0.0",
        "2.0.0",
        analysed=True,
        changes=(ApiChange("removed", "chart.default.legacyPlugin", "property removed"),),
    )
    root = APPS.parent / "default-export"
    uses, scanned = js_uses(root, "chart", diff)
    assert (found(uses), scanned) == ([("index.js", 3, "chart.default.legacyPlugin")], 1)


SYNTHETIC = ApiDiff(
    "npm",
    "lib",
    "1.0.0",
    "2.0.0",
    analysed=True,
    changes=(
        ApiChange("removed", "lib.Router", "class removed"),
        ApiChange("removed", "lib.Client.close", "method removed"),
        ApiChange("changed", "lib.connect", "parameter 'retries' removed"),
        ApiChange("deprecated", "lib.legacy", "deprecated: use modern"),
    ),
    returns=(("lib.connect", "lib.Client"),),
)


def test_member_chains_calls_and_what_is_not_a_use(tmp_path: Path) -> None:
    (tmp_path / "a.ts").write_text(
        "import * as L from 'lib';\n"
        "const r = new L.Router();\n"
        "const c = L.connect('db');\n"
        "c.close();\n"
        "c.open();\n"
        "require('lib').legacy();\n"
        "const text = \"L.Router and require('lib').legacy()\";\n"
        "/* L.Router */ const other = { Router: 1 }; other.Router;\n"
        "type T = L.Router;\n"
        "const lib = 'L.connect'; // L.connect\n"
    )

    uses, scanned = js_uses(tmp_path, "lib", SYNTHETIC)

    assert scanned == 1
    assert found(uses) == [
        ("a.ts", 2, "lib.Router"),
        ("a.ts", 3, "lib.connect"),
        ("a.ts", 4, "lib.Client.close"),
        ("a.ts", 6, "lib.legacy"),
        ("a.ts", 9, "lib.Router"),
    ]
    assert [u.detail for u in uses][2] == "method removed"


def test_skipped_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use = "const { Router } = require('lib');\nRouter();\n"
    for folder in ("node_modules/lib", "vendor", "dist", "build", "coverage", ".git", "src"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "x.js").write_text(use)
    (tmp_path / "src" / "app.min.js").write_text(use)
    (tmp_path / "src" / "bundle.js").write_text(use.replace("\n", ";") + "x" * 2000 + "\n")
    (tmp_path / "src" / "gen.ts").write_text("// @generated by protoc\n" + use)
    (tmp_path / "src" / "types.d.ts").write_text("import { Router } from 'lib';\n")
    (tmp_path / "src" / "big.js").write_text(use + "// " + "y" * 100 + "\n" * 3000)
    (tmp_path / "src" / "linked.js").symlink_to(tmp_path / "src" / "x.js")
    monkeypatch.setattr(js_uses_module, "MAX_FILE_BYTES", 1000)

    assert [p.relative_to(tmp_path).as_posix() for p in source_files(tmp_path)] == ["src/x.js"]
    uses, scanned = js_uses(tmp_path, "lib", SYNTHETIC)
    assert (found(uses), scanned) == ([("src/x.js", 1, "lib.Router"), ("src/x.js", 2, "lib.Router")], 1)


def test_nothing_is_claimed_without_a_diff(tmp_path: Path) -> None:
    shutil.copytree(APPS / "express4", tmp_path / "app")
    unknown = ApiDiff("npm", "express", "4.21.2", "5.1.0", analysed=False, why_not="no type declarations")

    assert js_uses(tmp_path / "app", "express", unknown) == ((), 3)


def test_names_a_major_removed_survive_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # react-router-dom 5 (typed by @types/react-router-dom) to 6: removed exports and many removed members
    monkeypatch.setattr(npm_api, "MAX_CHANGES", 5)
    diff = declaration_diff("react-router-dom", "router5", "router6")
    assert diff.source.startswith("fixtures (the 5 most important of")

    uses, scanned = js_uses(APPS / "react-router-dom-5-6-switch", "react-router-dom", diff)

    assert scanned == 1
    assert found(uses) == [
        ("src/Routes.jsx", 2, "react-router-dom.Switch"),  # import { BrowserRouter, Route, Switch, useHistory }
        ("src/Routes.jsx", 2, "react-router-dom.useHistory"),
        ("src/Routes.jsx", 5, "react-router-dom.useHistory"),  # useHistory()
        ("src/Routes.jsx", 12, "react-router-dom.Switch"),  # <Switch>
        ("src/Routes.jsx", 14, "react-router-dom.Switch"),  # </Switch>
    ]


def test_a_type_annotation_uses_the_type(tmp_path: Path) -> None:
    # @types/react 17 to 18: what a function component receives no longer has `children`
    diff = declaration_diff("react", "react17", "react18")
    uses, _ = js_uses(APPS / "react-17-18-fc-children", "react", diff)
    assert found(uses) == [("src/Card.tsx", 3, "react.FC")]  # export const Card: React.FC = ({ children }) => ...
    assert uses[0].detail == (
        "call signature: parameter 'props' type changed from PropsWithChildren<P> to P (no longer has 'children')"
    )

    (tmp_path / "Title.tsx").write_text(
        "import * as React from 'react';\n"
        "import { FunctionComponent, useState } from 'react';\n"
        "export const Title: React.FC<{ text: string }> = ({ text }) => <h1>{text}</h1>;\n"
        "Title.displayName = 'Title';\n"
        "export const Empty: FunctionComponent = () => null;\n"
        "export function Counter() { const [n] = useState(0); return <b>{n}</b>; }\n"
    )
    uses, _ = js_uses(tmp_path, "react", diff)
    # naming the type is a use; a member of a value of that type is not (the call signature changed, not it)
    assert found(uses) == [
        ("Title.tsx", 2, "react.FunctionComponent"),
        ("Title.tsx", 3, "react.FC"),
        ("Title.tsx", 5, "react.FunctionComponent"),
    ]


def test_a_method_of_what_an_ambient_module_returns() -> None:
    diff = declaration_diff("mongoose", "mongoose6", "mongoose7")
    assert ("mongoose.model", "mongoose.Model") in diff.returns

    uses, _ = js_uses(APPS / "mongoose-6-7-remove", "mongoose", diff)

    # const Order = mongoose.model("Order", ...); await Order.remove({ reference })
    assert found(uses) == [("src/orders.js", 6, "mongoose.Model.remove")]
