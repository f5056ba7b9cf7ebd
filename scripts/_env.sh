# Shared by scripts/run and scripts/test: a virtualenv with depup installed, and a Redis to talk to.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DEPUP_VENV:-$ROOT/.venv}"
RUN_DIR="$ROOT/.run"

say() { printf 'depup: %s\n' "$*" >&2; }

ensure_venv() {  # $1: the extras to install, e.g. "procfile" or "test"
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        say "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"; exit 2
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtualenv in $VENV"
        "$python" -m venv "$VENV"
    fi
    local stamp="$VENV/.depup-installed-$1"
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        say "installing depup[$1] into $VENV"
        local log; log="$(mktemp "${TMPDIR:-/tmp}/depup-pip.XXXXXX")"
        if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --editable "$ROOT[$1]" >"$log" 2>&1; then
            tail -n 30 "$log" >&2
            say "installation failed (full log: $log)"; exit 1
        fi
        rm -f "$log"
        touch "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}

redis_answers() {  # $1: redis URL
    "$VENV/bin/python" - "$1" <<'PY' 2>/dev/null
import sys
from redis import Redis
Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=1).ping()
PY
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_private_redis() {  # starts redis-server on a free port, sets PRIVATE_REDIS_URL; stopped on exit
    # $1 "persist": keep its data in an append-only file in $RUN_DIR/redis, kept across runs (scripts/run: queued
    # deliveries and scheduled retries survive a restart); otherwise in memory only, in a directory removed on exit.
    if ! command -v redis-server >/dev/null 2>&1; then
        say "no Redis answers and redis-server is not installed: install Redis or set REDIS_URL"; exit 2
    fi
    local port; port="$(free_port)"
    local persistence=(--save "" --appendonly no)
    if [ "${1:-}" = persist ]; then
        PRIVATE_REDIS_DIR="$RUN_DIR/redis"
        persistence=(--save "" --appendonly yes --appendfsync everysec)
    else
        PRIVATE_REDIS_DIR="$RUN_DIR/redis-$port"
    fi
    mkdir -p "$PRIVATE_REDIS_DIR"
    redis-server --bind 127.0.0.1 --port "$port" "${persistence[@]}" --dir "$PRIVATE_REDIS_DIR" \
        --logfile "$PRIVATE_REDIS_DIR/redis.log" --daemonize no >/dev/null 2>&1 &
    PRIVATE_REDIS_PID=$!
    if [ "${1:-}" = persist ]; then
        trap 'kill "$PRIVATE_REDIS_PID" 2>/dev/null; wait "$PRIVATE_REDIS_PID" 2>/dev/null' EXIT
    else
        trap 'kill "$PRIVATE_REDIS_PID" 2>/dev/null; wait "$PRIVATE_REDIS_PID" 2>/dev/null; rm -rf "$PRIVATE_REDIS_DIR"' EXIT
    fi
    for _ in $(seq 1 50); do
        if redis_answers "redis://127.0.0.1:$port"; then
            PRIVATE_REDIS_URL="redis://127.0.0.1:$port"; return 0
        fi
        sleep 0.1
    done
    say "redis-server did not start (see $PRIVATE_REDIS_DIR/redis.log)"; exit 2
}
