"""Values of code migrations: what one rewriter changed for one upgrade, and the outcome of all of them."""

from __future__ import annotations

from dataclasses import dataclass

MIGRATION_PREFIX = "Migrate code for "  # every migration commit's message starts so (the revert looks for it)


@dataclass(frozen=True)
class Migration:
    """The edits of one rewriter for one upgrade: ``files`` maps each changed path to its new text.

    ``notes`` has one line per changed file ("+3 -3 lines"); ``left`` what the tool reported and did not fix
    ("app/calc.py:9:12: NPY201 `np.in1d` will be removed in NumPy 2.0 ..."), for a person to finish."""

    rewriter: str
    tool: str  # "django-upgrade 1.33.0"
    package: str
    version: str  # the upgrade's target
    files: dict[str, str]
    notes: tuple[tuple[str, str], ...] = ()  # (path, note), sorted by path
    left: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """ "django-upgrade: 14 files"."""
        return f"{self.rewriter}: {_files(len(self.files))}"

    @property
    def message(self) -> str:
        """The commit message: "Migrate code for django 5.0 (django-upgrade): 14 files"."""
        return f"{MIGRATION_PREFIX}{self.package} {_short(self.version)} ({self.rewriter}): {_files(len(self.files))}"


@dataclass(frozen=True)
class Outcome:
    """Every migration made for a PR, in the order their commits go, and one line per rewriter that applied but
    made none ("bump-pydantic 0.8.0 for pydantic 2.11.7: failed (exit status 1): ...", "... changed nothing")."""

    migrations: tuple[Migration, ...] = ()
    problems: tuple[str, ...] = ()


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


def _short(version: str) -> str:
    """5.0.1 -> 5.0 (the line a migration is for); versions without a minor stay as they are."""
    parts = version.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else version
