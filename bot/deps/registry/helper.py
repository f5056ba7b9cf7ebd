"""A second process that fetches and parses registry answers for a big batch of lookups.

Parsing registry JSON holds the GIL: a cold 1,000-package plan spends about three seconds of one core turning
answers into packages while the machine's other cores wait. ``RegistryClient`` therefore starts this helper
(``python -m bot.deps.registry.helper_main``: a new interpreter, never a fork of a process with threads) when a batch
has at least ``HELPER_MIN`` packages to fetch, and the helper and the client's own threads take packages from one
queue: whoever is free takes the next, so a few huge projects do not leave one side idle.

The helper only answers "what does the registry say of this package" (``RegistryClient._answer``: the request,
conditional when the client holds validators, and the parse); the client keeps everything else (the cache, its
locks, stale copies, counters, the deadline). Messages are MessagePack frames (msgspec), each after its length in
4 bytes: ``Setup``, then ``Job``s, on the helper's stdin; ``Ready``, then one ``Answer`` per job, on its stdout. The
package of an answer is in the registry cache's format (``codec``). The helper ends when its stdin closes.

A helper that cannot start, dies or answers garbage costs nothing but its speed: the packages it held go back to
the queue, and the client's threads fetch them (logged). ``DEPUP_REGISTRY_HELPER=0`` turns it off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Literal, TypeVar

import msgspec

log = logging.getLogger(__name__)

COMMAND: tuple[str, ...] = (sys.executable, "-m", "bot.deps.registry.helper_main")
HELPER_MIN = 64  # packages to fetch in one batch before a helper is worth its start (about 0.2 s of a core)
_LENGTH = struct.Struct(">I")
_MAX_FRAME = 256 * 1024 * 1024


class Setup(msgspec.Struct, array_like=True, tag=True):
    timeout: float
    concurrency: int


class Job(msgspec.Struct, array_like=True, tag=True):
    id: int
    ecosystem: str
    name: str
    base: str  # the registry base of the package's cache key
    key: str  # the package's canonical name
    url: str
    accept: str | None
    fallback_url: str | None
    etag: str | None = None
    last_modified: str | None = None


class Ready(msgspec.Struct, array_like=True, tag=True):
    pass


class Answer(msgspec.Struct, array_like=True, tag=True):
    id: int
    kind: Literal["parsed", "not_modified", "failure"]
    data: bytes  # codec.encode_parsed, or codec.encode_failure
    etag: str | None
    last_modified: str | None
    # the helper's counters when the answer was sent (cumulative: the client adds what is new)
    requests: int
    received: int  # body bytes
    fallbacks: int


Message = Setup | Job | Ready | Answer
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Message)
M = TypeVar("M", Setup, Job, Ready, Answer)


class HelperError(Exception):
    """The helper broke its side of the protocol (or died): what it held is fetched by the client instead."""


def write_frame(stream: IO[bytes], message: Message) -> None:
    data = _ENCODER.encode(message)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes], kind: type[M]) -> M | None:
    """The next message, which must be a ``kind``; None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if not head:
        return None
    if len(head) < _LENGTH.size:
        raise HelperError("stream ended inside a frame header")
    (size,) = _LENGTH.unpack(head)
    if size > _MAX_FRAME:
        raise HelperError(f"frame of {size} bytes")
    data = stream.read(size)
    if len(data) < size:
        raise HelperError("stream ended inside a frame")
    try:
        message = _DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise HelperError(f"unreadable frame: {exc}") from exc
    if not isinstance(message, kind):
        raise HelperError(f"expected {kind.__name__}, got {type(message).__name__}")
    return message


def enabled() -> bool:
    return os.environ.get("DEPUP_REGISTRY_HELPER", "1").strip().lower() not in {"0", "false", "no", "off"}


class Helper:
    """The client's end of one helper process."""

    def __init__(self, process: subprocess.Popen[bytes], concurrency: int) -> None:
        self._process = process
        self._concurrency = concurrency
        self._closing = False  # ``close`` was called: the end of the helper is not a failure

    @classmethod
    def start(cls, timeout: float, concurrency: int) -> Helper | None:
        """A helper being started (it says ``Ready`` once its imports are done), or None when it cannot be."""
        try:
            process = subprocess.Popen(  # noqa: S603 - this interpreter and this module (COMMAND), no shell
                list(COMMAND),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
            )
        except OSError as exc:
            log.warning("registry helper not started: %s", exc)
            return None
        helper = cls(process, concurrency)
        try:
            assert process.stdin is not None
            write_frame(process.stdin, Setup(timeout, concurrency))
        except OSError as exc:
            log.warning("registry helper not started: %s", exc)
            helper.close()
            return None
        return helper

    def serve(
        self,
        take: Callable[[], Job | None],
        deliver: Callable[[Job, Answer], None],
        give_back: Callable[[Job], None],
    ) -> None:
        """Keep the helper busy with jobs from ``take`` (None: no more) until it has answered them all; each
        answer goes to ``deliver``. If the helper fails, the jobs it held go to ``give_back``. Runs in a thread
        of its own; returns when done or when the helper is closed."""
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        held: dict[int, Job] = {}
        try:
            if read_frame(process.stdout, Ready) is None:
                raise HelperError(f"it ended before starting (exit status {process.wait()})")
            while True:
                while len(held) < self._concurrency and (job := take()) is not None:
                    held[job.id] = job
                    write_frame(process.stdin, job)
                if not held:
                    break
                answer = read_frame(process.stdout, Answer)
                if answer is None:
                    raise HelperError(f"it ended with {len(held)} packages unanswered")
                job = held.pop(answer.id, None)
                if job is None:
                    raise HelperError(f"it answered job {answer.id}, which it was not given")
                deliver(job, answer)
        except (HelperError, OSError, ValueError) as exc:  # ValueError: a pipe closed by ``close`` meanwhile
            if not self._closing:
                log.warning("registry helper stopped (%s): its %d packages go back to this process", exc, len(held))
        finally:
            for job in held.values():
                give_back(job)
            self.close()

    def close(self) -> None:
        """End the helper: its stdin closed (it finishes what it holds and exits), killed if it lingers."""
        self._closing = True
        process = self._process
        if process.stdin is not None and not process.stdin.closed:
            with contextlib.suppress(OSError):  # a helper that died leaves a broken pipe
                process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
