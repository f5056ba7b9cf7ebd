"""The baseline for bench.intake: a bare Flask endpoint, served by the same gunicorn configuration."""

from flask import Flask

app = Flask(__name__)


@app.post("/hello")
def hello() -> str:
    return "hello"
