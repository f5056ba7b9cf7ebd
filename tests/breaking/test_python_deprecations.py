"""Deprecations read from a module's syntax tree: warnings in bodies, decorators, a warning module ``__getattr__``."""

from __future__ import annotations

from bot.breaking.python_deprecations import Deprecation, Provided, module_deprecations

SOURCE = """
import warnings
from typing_extensions import deprecated

_MOVED = {"OldName": "new.place.OldName", "other_old": "new.other"}


def old_function(x):
    warnings.warn("old_function is deprecated, use new_function", DeprecationWarning, stacklevel=2)
    return x


def takes_a_deprecated_parameter(value, legacy=None):
    if legacy is not None:
        warnings.warn(f"'legacy' is deprecated since {VERSION}", category=FutureWarning)
    return value


def warns_of_something_else():
    warnings.warn("careful", RuntimeWarning)


@deprecated("use Shiny")
class Dull:
    pass


@util.deprecated("1.4", "The Engine.execute() method is considered legacy")
def execute(statement):
    pass


@util.deprecated_params(bind=("2.0", "The MetaData.bind argument is deprecated"))
def reflect(bind=None, only=None):
    pass


class Widget:
    def __init__(self, size):
        warnings.warn(PendingDeprecationWarning("Widget will go"))

    @deprecated("use render()")
    def draw(self):
        pass

    def render(self):
        def inner():
            warnings.warn("not the method's own warning", DeprecationWarning)
        return inner


def __getattr__(name):
    if name == "Legacy":
        warnings.warn("Legacy is deprecated", DeprecationWarning, stacklevel=2)
        return Widget
    if name in ("lazy_a", "lazy_b"):
        import importlib
        return importlib.import_module("." + name, __name__)
    if name in _MOVED:
        warnings.warn("{} moved".format(name), DeprecationWarning)
        return None
    raise AttributeError(name)
"""


def test_deprecations_of_functions_classes_methods_and_parameters() -> None:
    found = module_deprecations(SOURCE)
    assert found.deprecations == (
        Deprecation("Dull", "use Shiny"),
        Deprecation("Widget", "Widget will go"),
        Deprecation("Widget.draw", "use render()"),
        Deprecation("execute", "The Engine.execute() method is considered legacy"),
        Deprecation("old_function", "old_function is deprecated, use new_function"),
        Deprecation("reflect", "The MetaData.bind argument is deprecated", "bind"),
        Deprecation("takes_a_deprecated_parameter", "'legacy' is deprecated since {...}", "legacy"),
    )
    detail = found.deprecations[-1].detail
    assert detail == "parameter 'legacy' deprecated: 'legacy' is deprecated since {...}"


def test_names_a_module_getattr_provides() -> None:
    assert module_deprecations(SOURCE).provided == (
        Provided("Legacy", True, "Legacy is deprecated"),
        Provided("OldName", True, "{} moved"),
        Provided("lazy_a", False),
        Provided("lazy_b", False),
        Provided("other_old", True, "{} moved"),
    )


def test_a_module_that_warns_when_imported_is_deprecated() -> None:
    source = 'import warnings\nwarnings.warn("this module is deprecated", DeprecationWarning)\n'
    assert module_deprecations(source).deprecations == (Deprecation("", "this module is deprecated"),)
    assert module_deprecations("def broken(:\n") == module_deprecations("")
