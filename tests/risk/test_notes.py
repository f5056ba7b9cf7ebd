from __future__ import annotations

from bot.risk.notes import breaking_notes, sections

MARKDOWN = """# Changelog

## [3.1.0] - 2024-11-13
- Add `--app` option.

## 3.0.0 (2023-09-30)
### Breaking changes
- Remove previously deprecated code.
- Drop support for Python 3.7.

## v2.3.0
- Plain release.

## 2.2.5
- Fix things.
"""

RST = """Version 3.1.0
-------------

Released 2024-11-13

-   Nothing breaking here.

Version 3.0.0
-------------

-   Backwards incompatible: the ``json`` provider changed.

Version 2.3.3
-------------

-   Fix.
"""


def test_markdown_sections_are_found_by_version_headings() -> None:
    assert [v for v, _ in sections(MARKDOWN)] == ["3.1.0", "3.0.0", "2.3.0", "2.2.5"]


def test_rst_titles_underlined_are_sections() -> None:
    assert [v for v, _ in sections(RST)] == ["3.1.0", "3.0.0", "2.3.3"]


def test_only_sections_after_current_up_to_target_are_read() -> None:
    notes = breaking_notes(MARKDOWN, "CHANGES.md", "python", "2.2.5", "2.3.0")
    assert (notes.versions, notes.markers) == (1, ())
    notes = breaking_notes(MARKDOWN, "CHANGES.md", "python", "2.3.0", "3.1.0")
    assert notes.versions == 2
    assert notes.markers == ("3.0.0: Breaking changes", "3.0.0: Drop support for Python 3.7.")


def test_rst_markers_and_npm_ordering() -> None:
    notes = breaking_notes(RST, "CHANGES.rst", "npm", "2.3.3", "3.1.0")
    assert notes.versions == 2
    # Sections are read newest first, as the file lists them; "breaking" alone counts, negated or not.
    assert notes.markers == (
        "3.1.0: Nothing breaking here.",
        "3.0.0: Backwards incompatible: the ``json`` provider changed.",
    )


def test_no_version_sections_means_nothing_read() -> None:
    notes = breaking_notes("just some text\nBREAKING everything", "x", "python", "1.0", "2.0")
    assert (notes.versions, notes.markers) == (0, ())


def test_long_lines_are_cut() -> None:
    text = "## 2.0.0\n- breaking: " + "x" * 500 + "\n"
    (marker,) = breaking_notes(text, "x", "python", "1.0.0", "2.0.0").markers
    assert len(marker) <= 130 and marker.endswith("…")
