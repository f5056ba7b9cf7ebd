"""depup: phased, risk-ordered dependency upgrades for GitHub repositories."""

__version__ = "0.1.0"
