from __future__ import annotations

from pathlib import Path

from bot.risk.imports import index_imports, npm_imports, npm_module, python_imports, python_modules


def test_python_import_statements() -> None:
    text = """import os, yaml as y
from flask import Flask
from .local import thing
from google.cloud.storage import blob
    import requests.adapters
x = "import notme"
"""
    names = python_imports(text)
    assert {
        "os",
        "yaml",
        "flask",
        "google",
        "google.cloud",
        "google.cloud.storage",
        "requests",
        "requests.adapters",
    } <= names
    assert "notme" not in names and "local" not in names


def test_npm_import_forms() -> None:
    text = """import React from 'react';
import { a, b } from "lodash/fp";
import type { X } from '@scope/pkg/sub';
export * from 'rxjs';
const e = require('express');
const lazy = await import("axios");
import './styles.css';
import fs from 'node:fs';
import 'side-effect';
"""
    assert npm_imports(text) == {"react", "lodash", "@scope/pkg", "rxjs", "express", "axios", "side-effect"}


def test_module_names_of_distributions() -> None:
    assert python_modules("pyyaml") == ("yaml",)
    assert python_modules("importlib-metadata") == ("importlib_metadata",)
    assert python_modules("flask") == ("flask",)
    assert npm_module("@types/node") == "node"
    assert npm_module("@types/babel__core") == "@babel/core"


def test_index_counts_files_and_skips_vendored_trees(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text("import flask\nimport yaml\n")
    (tmp_path / "app" / "b.py").write_text("from flask import Flask\n")
    (tmp_path / "app" / "c.py").write_text("print('no imports')\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("import flask\n")
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.tsx").write_text("import React from 'react'\n")
    (tmp_path / "node_modules" / "react").mkdir(parents=True)
    (tmp_path / "node_modules" / "react" / "index.js").write_text("require('react')\n")
    index = index_imports(tmp_path)
    flask = index.count("python", "flask")
    assert (flask.files, flask.scanned, flask.modules) == (2, 3, ("flask",))
    assert index.count("python", "pyyaml").files == 1
    react = index.count("npm", "react")
    assert (react.files, react.scanned) == (1, 1)
    assert index.count("npm", "lodash").files == 0
