"""Fuzzing of every place depup takes hostile input (hypothesis), with size and time bounds.

One module per target: the webhook endpoint, manifests and lockfiles with their editors, the configuration
file, comment commands, registry and OSV answers; and a test that no secret reaches any log line.

    .venv/bin/pytest tests/fuzz                 # quick: a few dozen examples per target (the default suite)
    .venv/bin/pytest tests/fuzz -m fuzz         # 10,000 examples per target, plus full-size bound checks
    DEPUP_FUZZ_EXAMPLES=100000 .venv/bin/pytest tests/fuzz -m fuzz

The number of examples comes from ``budget.py``; the run ends with a table of examples and seconds per target.
A failing example is kept in ``.hypothesis/`` and tried first on the next run; each bug found has a
``test_regression_*`` with its minimal input.
"""
