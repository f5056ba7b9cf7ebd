"""The registry helper process (``bot.deps.registry.helper``): ``python -m bot.deps.registry.helper_main``."""

from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from bot.deps.model import Ecosystem
from bot.deps.registry import codec
from bot.deps.registry.cache import CacheKey
from bot.deps.registry.client import RegistryClient, Target
from bot.deps.registry.failures import LookupFailure
from bot.deps.registry.fetch import NotModified, Validators
from bot.deps.registry.helper import Answer, Job, Ready, Setup, read_frame, write_frame

log = logging.getLogger(__name__)


def main() -> None:
    """The helper process: answer jobs from stdin on ``Setup.concurrency`` threads until stdin ends."""
    logging.basicConfig(level=logging.WARNING, format="depup registry helper: %(levelname)s %(name)s: %(message)s")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    setup = read_frame(stdin, Setup)
    if setup is None:
        return
    client = RegistryClient(None, timeout=setup.timeout, max_concurrency=setup.concurrency)
    sending = threading.Lock()

    def answer(job: Job) -> None:
        ecosystem = Ecosystem(job.ecosystem)
        target = Target(
            ecosystem, job.name, CacheKey(ecosystem, job.base, job.key), job.url, job.accept, job.fallback_url
        )
        try:
            found, validators = client._answer(target, Validators(job.etag, job.last_modified))
        except Exception as exc:  # one package's bug fails that package only, as in the client
            log.exception("registry lookup of %s %s failed unexpectedly", job.ecosystem, job.name)
            reason = f"internal error ({type(exc).__name__})"
            found, validators = LookupFailure(ecosystem, job.name, reason, "malformed"), Validators()
        kind: Literal["parsed", "not_modified", "failure"]
        if isinstance(found, LookupFailure):
            kind, data = "failure", codec.encode_failure(found)
        elif isinstance(found, NotModified):
            kind, data = "not_modified", b""
        else:
            kind, data = "parsed", codec.encode_parsed(found)
        with sending:
            stats = client.stats
            write_frame(
                stdout,
                Answer(
                    job.id,
                    kind,
                    data,
                    validators.etag,
                    validators.last_modified,
                    stats.requests,
                    stats.bytes,
                    stats.fallbacks,
                ),
            )

    with ThreadPoolExecutor(max_workers=setup.concurrency, thread_name_prefix="helper") as executor:
        with sending:
            write_frame(stdout, Ready())
        while (job := read_frame(stdin, Job)) is not None:
            executor.submit(answer, job)
    client.close()


if __name__ == "__main__":
    main()
    os._exit(0)  # every answer is written and flushed: no interpreter teardown for the client to wait on
