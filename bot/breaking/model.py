"""Values of breaking-change detection: what changed in a package's public API between two releases, and where
the repository's own code uses it.

``ApiDiff`` comes from reading both releases' published files statically (Python: the wheel or sdist with
griffe; npm: the type declarations and the ``exports`` map); ``Use`` from reading the repository's source.
``Breakage`` joins them for one update and is what risk, the plan and the PR body show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ChangeKind = Literal["removed", "changed", "deprecated"]


@dataclass(frozen=True)
class ApiChange:
    """One change of the public API between the two releases.

    ``symbol`` is the public path a user writes: ``flask.Markup``, ``pydantic.BaseModel.dict``,
    ``react-dom.render``, ``express/lib/router`` (an ``exports`` subpath). ``detail`` says what changed in one line
    ("removed", "parameter 'json' removed", "default of 'strict' changed from False to True",
    "deprecated: use markupsafe.Markup").

    ``aliases`` are the other public paths that name the same object (``urllib3.util.retry.Retry`` and
    ``urllib3.util.Retry`` for ``urllib3.Retry``): a use through any of them is a use of this one change.
    """

    kind: ChangeKind
    symbol: str
    detail: str
    aliases: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """Every public path of the changed object, ``symbol`` first."""
        return (self.symbol, *self.aliases)


@dataclass(frozen=True)
class ApiDiff:
    """The public API changes of ``package`` from ``current`` to ``target``.

    ``analysed`` is False when the releases could not be read (no distribution, too large, no type
    declarations, timed out): ``why_not`` says why and ``changes`` is empty, which means "unknown", not "none".
    """

    ecosystem: str  # "python" | "npm"
    package: str  # canonical key (PEP 503 name, npm name)
    current: str
    target: str
    analysed: bool
    changes: tuple[ApiChange, ...] = ()
    why_not: str | None = None
    source: str = ""  # what was compared, e.g. "wheels", "sdists", "type declarations of @types/react"
    # npm: what calling an exported function returns in the current release, as (function symbol, type symbol), e.g.
    # ("express", "express.Express"), so that uses of ``app.del`` after ``app = express()`` can be found.
    returns: tuple[tuple[str, str], ...] = ()

    @property
    def breaking(self) -> tuple[ApiChange, ...]:
        """Removed and changed names (deprecations warn, they do not break yet)."""
        return tuple(c for c in self.changes if c.kind != "deprecated")


@dataclass(frozen=True)
class Use:
    """One place in the repository's code that uses a changed symbol."""

    file: str  # path relative to the repository root
    line: int  # 1-based
    symbol: str  # the ApiChange.symbol it uses
    detail: str  # the ApiChange.detail, repeated so a use explains itself


@dataclass(frozen=True)
class Breakage:
    """The evidence for one update: the API diff, and the uses of what changed in the repository's own code.

    ``uses`` is empty with ``checked`` > 0 when the code uses none of the ``checked`` changed names ("no use of
    the 14 removed names"). ``scanned`` is the number of source files read; 0 means the code was not available,
    and then nothing is claimed about uses.
    """

    diff: ApiDiff
    uses: tuple[Use, ...] = ()
    scanned: int = 0

    @property
    def checked(self) -> int:
        return len(self.diff.changes)

    @property
    def breaking_uses(self) -> tuple[Use, ...]:
        kinds = {c.symbol: c.kind for c in self.diff.changes}
        return tuple(u for u in self.uses if kinds.get(u.symbol) != "deprecated")
