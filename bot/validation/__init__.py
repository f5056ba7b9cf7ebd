"""Validation of an upgrade pull request beyond green or red CI: its checks by test layer, its coverage and its
benchmarks against the commit it was made on (issue 19; docs/validation.md)."""
