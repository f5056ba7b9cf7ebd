"""Golden tests: the rendered plan (dashboard Markdown and a PR body) for the three peer samples, with the
registry answers recorded on 2026-11-24 and the clock fixed. Regenerate after a deliberate change with
``DEPUP_UPDATE_GOLDEN=1 scripts/test tests/plan/test_samples_golden.py`` and review the diff."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.deps.registry.client import RegistryClient
from bot.deps.survey import survey
from bot.deps.versions import Policy
from bot.plan import Plan, Sources, make_plan
from bot.plan.render import group_markdown, plan_markdown
from bot.risk.imports import index_imports
from config.loader import default_config
from tests.support.registry_server import RegistryServer

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "peers" / "samples"
GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# Application code beside the manifests, so that import spread is measured, not unknown.
CODE = {
    "py-req": {
        "app/web.py": "import flask\nfrom flask import Flask\nimport requests\n",
        "app/models.py": "from sqlalchemy import Column\nimport django\n",
        "app/tasks.py": "from celery import Celery\nimport requests\nimport numpy as np\n",
        "app/util.py": "import requests\n",
        "tests/test_web.py": "import pytest\nimport flask\n",
    },
    "py-pyproject": {"src/sample/__init__.py": "import requests\nimport httpx\nfrom pydantic import BaseModel\n"},
    "js-app": {
        "src/index.js": "import React from 'react';\nconst express = require('express');\n",
        "src/api.js": "import axios from 'axios';\nimport _ from 'lodash';\n",
        "src/app.tsx": "import React from 'react';\n",
    },
}


def plan_for(sample: str, tmp_path: Path) -> Plan:
    root = tmp_path / sample
    shutil.copytree(SAMPLES / sample, root)
    for path, text in CODE[sample].items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    config = default_config()
    policy = Policy(range_strategy=config.range_strategy, min_release_age=config.min_release_age, now=NOW)
    with RegistryClient(None) as registry:
        result = survey(root, registry, policy)
    return make_plan(result, config, NOW, Sources(imports=index_imports(root)))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DEPUP_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with DEPUP_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text()


@pytest.mark.parametrize("sample", ["py-req", "py-pyproject", "js-app"])
def test_rendered_plan_matches_golden(sample: str, tmp_path: Path, registry_server: RegistryServer) -> None:
    plan = plan_for(sample, tmp_path)
    check_golden(f"{sample}.plan.md", plan_markdown(plan))
    first = plan.group(plan.opening[0])
    assert first is not None
    check_golden(f"{sample}.pr.md", group_markdown(first, plan))


def test_plan_is_the_same_on_a_second_survey(tmp_path: Path, registry_server: RegistryServer) -> None:
    assert plan_for("py-req", tmp_path / "a").id == plan_for("py-req", tmp_path / "b").id
