"""A registry helper that breaks the protocol the way a real one could: ``python -m tests.support.broken_helper MODE``.

- ``exit``: takes three packages, then exits without answering;
- ``garbage``: answers its first package with bytes that are no frame;
- ``stranger``: answers a package it was never given;
- ``hang``: takes packages and never answers (and ignores the end of its stdin);
- ``silent``: exits before saying it is ready.
"""

from __future__ import annotations

import sys
import time

from bot.deps.registry.helper import Answer, Job, Ready, Setup, read_frame, write_frame


def main(mode: str) -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    assert read_frame(stdin, Setup) is not None
    if mode == "silent":
        sys.exit(2)
    write_frame(stdout, Ready())
    jobs = 0
    while (job := read_frame(stdin, Job)) is not None:
        jobs += 1
        if mode == "exit" and jobs == 3:
            sys.exit(3)
        if mode == "garbage":
            stdout.write(b"\x00\x00\x00\x05hello")
            stdout.flush()
        if mode == "stranger":
            write_frame(stdout, Answer(job.id + 1, "not_modified", b"", None, None, 0, 0, 0))
    if mode == "hang":
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1])
