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


# Module ``__getattr__`` shapes of real packages (quoted from their releases, trimmed to the function).

DJANGO_4_2_TIMEZONE = """
import warnings
from datetime import timezone

from django.utils.deprecation import RemovedInDjango50Warning


def __getattr__(name):
    if name != "utc":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    warnings.warn(
        "The django.utils.timezone.utc alias is deprecated. "
        "Please update your code to use datetime.timezone.utc instead.",
        RemovedInDjango50Warning,
        stacklevel=2,
    )

    return timezone.utc
"""

SETUPTOOLS_69_DEP_UTIL = """
from ._distutils import _modified
from .warnings import SetuptoolsDeprecationWarning


def __getattr__(name):
    if name not in ['newer_group', 'newer_pairwise_group']:
        raise AttributeError(name)
    SetuptoolsDeprecationWarning.emit(
        "dep_util is Deprecated. Use functions from setuptools.modified instead.",
        "Please use `setuptools.modified` instead of `setuptools.dep_util`.",
    )
    return getattr(_modified, name)
"""

PYDANTIC_CORE_SCHEMA = """
_deprecated_import_lookup = {
    'FieldValidationInfo': ValidationInfo,
    'FieldValidatorFunction': WithInfoValidatorFunction,
}


def __getattr__(attr_name: str) -> object:
    new_attr = _deprecated_import_lookup.get(attr_name)
    if new_attr is None:
        raise AttributeError(f"module 'pydantic_core' has no attribute '{attr_name}'")
    else:
        import warnings

        msg = f'`{attr_name}` is deprecated, use `{new_attr.__name__}` instead.'
        warnings.warn(msg, DeprecationWarning, stacklevel=1)
        return new_attr
"""

JSONSCHEMA_4_FORMAT_CHECKERS = """
import warnings


def __getattr__(name):
    if name == "__version__":
        warnings.warn("Accessing jsonschema.__version__ is deprecated", DeprecationWarning, stacklevel=2)
        from importlib import metadata
        return metadata.version("jsonschema")

    format_checkers = {
        "draft3_format_checker": Draft3Validator,
        "draft7_format_checker": Draft7Validator,
    }
    ValidatorForFormat = format_checkers.get(name)
    if ValidatorForFormat is not None:
        warnings.warn(
            f"Accessing jsonschema.{name} is deprecated and will be removed in a future release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return ValidatorForFormat.FORMAT_CHECKER

    raise AttributeError(f"module {__name__} has no attribute {name}")
"""

UV_BUILD_BACKEND = """
def __getattr__(attr_name: str) -> object:
    if attr_name in {
        "build_sdist",
        "build_wheel",
    }:
        err = (
            f"Using `uv.{attr_name}` is not allowed; build backend functionality is in the `uv_build` package. "
        )
        raise AttributeError(err)
    raise AttributeError(f"module `{__name__}` has no attribute `{attr_name}`")
"""


def test_a_guard_that_turns_other_names_away_provides_the_names_it_lets_through() -> None:
    """Django 4.2's ``django.utils.timezone.utc``: ``if name != "utc": raise``, then the warning."""
    assert module_deprecations(DJANGO_4_2_TIMEZONE).provided == (
        Provided(
            "utc",
            True,
            "The django.utils.timezone.utc alias is deprecated. Please update your code to use "
            "datetime.timezone.utc instead.",
        ),
    )
    message = "dep_util is Deprecated. Use functions from setuptools.modified instead."
    assert module_deprecations(SETUPTOOLS_69_DEP_UTIL).provided == (
        Provided("newer_group", True, message),  # ``not in [...]``, and the category's own ``emit``
        Provided("newer_pairwise_group", True, message),
    )


def test_a_lookup_whose_miss_raises_provides_its_keys_with_the_warning_after_it() -> None:
    assert module_deprecations(PYDANTIC_CORE_SCHEMA).provided == (
        Provided("FieldValidationInfo", True),  # the message is a variable: deprecated, without its text
        Provided("FieldValidatorFunction", True),
    )
    message = "Accessing jsonschema.{...} is deprecated and will be removed in a future release."
    assert module_deprecations(JSONSCHEMA_4_FORMAT_CHECKERS).provided == (
        Provided("__version__", True, "Accessing jsonschema.__version__ is deprecated"),
        Provided("draft3_format_checker", True, message),  # a dict local to the function
        Provided("draft7_format_checker", True, message),
    )


def test_names_answered_only_with_an_attribute_error_are_not_provided() -> None:
    assert module_deprecations(UV_BUILD_BACKEND).provided == ()


def test_match_negations_and_conjunctions_on_the_name() -> None:
    source = """
import warnings

_OLD = dict(alpha=1, beta=2)


def __getattr__(name):
    match name:
        case "Old" | "Older":
            warnings.warn("Old is deprecated", DeprecationWarning)
            return 1
        case "lazy":
            return 2
        case _:
            pass
    if not (name in _OLD):
        if name == "gone" and SOME_FLAG:
            raise AttributeError("gone was removed")
        if name != "other" or SOME_FLAG:
            raise AttributeError(name)
        return 3
    warnings.warn(f"{name} moved", FutureWarning)
    return _OLD[name]
"""
    assert module_deprecations(source).provided == (
        Provided("Old", True, "Old is deprecated"),
        Provided("Older", True, "Old is deprecated"),
        Provided("alpha", True, "{...} moved"),
        Provided("beta", True, "{...} moved"),
        Provided("lazy", False),
        Provided("other", False),
    )
