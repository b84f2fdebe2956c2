"""Options defined once, as dataclass fields; everything else is derived from those fields.

A settings dataclass (:class:`~mmm_jax.spec.ModelSpec`, :class:`~mmm_jax.sampler_config.
SamplerConfig`, :class:`~mmm_jax.allocate.options.AllocationOptions`) declares each option
with :func:`option`: its default, its kind, its rule and one line of documentation. From the
fields come

* validation in ``__post_init__`` (:func:`validate`): ``ValueError("num_chains=0 must be >=
  1")``;
* the TOML tables of ``mmm-jax fit`` (:func:`from_table`, with did-you-mean errors that name
  the file and the key) and their text (:func:`dumps_toml`);
* the JSON of a saved model (:func:`to_plain` / :func:`from_plain`);
* the report's settings table (:func:`rows`).

So a new option is one new field: nothing else needs an edit.

>>> import dataclasses
>>> @dataclasses.dataclass(frozen=True)
... class Demo:
...     chains: int = option(4, "int", "chains", check=at_least(1))
...     def __post_init__(self):
...         validate(self)
>>> Demo(chains=0)
Traceback (most recent call last):
...
ValueError: chains=0 must be >= 1
>>> from_table(Demo, {"chians": 2}, source="run.toml", section="sampler")
Traceback (most recent call last):
...
ValueError: run.toml: unknown key 'sampler.chians'; did you mean 'chains'? known keys: chains
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

KINDS = ("str", "int", "float", "bool", "names", "priors", "float_pair", "any")
_KIND_NAMES = {"str": "a string", "int": "an integer", "float": "a number",
               "bool": "true or false", "names": "a list of names (strings)",
               "priors": "a table of site = { dist = ... }",
               "float_pair": "a pair of numbers [low, high]", "any": "a value"}


@dataclasses.dataclass(frozen=True)
class Rule:
    """What the field metadata of an :func:`option` holds."""

    kind: str
    doc: str
    check: Callable[[Any], str | None] | None = None
    toml: str | None = None      # the TOML key when it differs from the field name
    optional: bool = False       # None is allowed (and means "not set")
    persist: bool = True         # part of the saved / TOML / report settings


def option(default=dataclasses.MISSING, kind: str = "any", doc: str = "", *,
           check: Callable[[Any], str | None] | None = None, toml: str | None = None,
           optional: bool = False, persist: bool = True, default_factory=dataclasses.MISSING):
    """A dataclass field carrying its :class:`Rule`.

    Args:
        default: the default (the only place it is written). kind: one of :data:`KINDS`.
        doc: one line for the report and the TOML docs. check: returns the problem (e.g.
            ``"must be >= 1"``) or None. toml: TOML key name when it differs.
        optional: None is a valid value. persist: False keeps a runtime-only field (e.g. a
            progress bar) out of TOML, save files and the report.
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; use one of {KINDS}")
    meta = {"rule": Rule(kind=kind, doc=doc, check=check, toml=toml, optional=optional,
                         persist=persist)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


# ------------------------------------------------------------------ rules
def at_least(low, *, strict: bool = False):
    """Rule: ``value >= low`` (``> low`` when ``strict``)."""
    def check(v):
        bad = v <= low if strict else v < low
        return f"must be {'>' if strict else '>='} {low}" if bad else None
    return check


def one_of(choices):
    """Rule: ``value in choices``."""
    choices = list(choices)

    def check(v):
        return None if v in choices else f"must be one of {choices}"
    check.choices = tuple(choices)  # read by tests that try every choice
    return check


def open_unit(v):
    """Rule: ``0 < value < 1``."""
    return None if 0.0 < v < 1.0 else "must be between 0 and 1 (exclusive)"


def _kind_problem(kind: str, value) -> str | None:
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    elif kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "str":
        ok = isinstance(value, str)
    elif kind == "names":
        ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    elif kind == "float_pair":
        ok = (isinstance(value, list | tuple) and len(value) == 2
              and all(v is None or isinstance(v, int | float) and not isinstance(v, bool)
                      for v in value))
    else:
        ok = True
    return None if ok else f"must be {_KIND_NAMES[kind]}"


def problem(rule: Rule, value) -> str | None:
    """What is wrong with ``value`` under ``rule`` (None when it is fine)."""
    if value is None and rule.optional:
        return None
    found = _kind_problem(rule.kind, value)
    if found is None and rule.kind in ("int", "float") and not math.isfinite(float(value)):
        found = "must be finite"
    if found is None and rule.check is not None:
        found = rule.check(value)
    return found


def fields(cls_or_obj, *, persisted: bool = True):
    """The option fields of a settings dataclass (those declared with :func:`option`)."""
    out = [f for f in dataclasses.fields(cls_or_obj) if "rule" in f.metadata]
    return [f for f in out if f.metadata["rule"].persist] if persisted else out


def validate(obj) -> None:
    """Check every option field of ``obj`` (call from ``__post_init__``); normalise ints,
    floats and name lists in place.

    Raises:
        ValueError: ``"<name>=<value> <problem>"`` for the first bad field.
    """
    for f in fields(obj, persisted=False):
        rule, value = f.metadata["rule"], getattr(obj, f.name)
        found = problem(rule, value)
        if found:
            raise ValueError(f"{f.name}={value!r} {found}")
        if value is None:
            continue
        if rule.kind == "int":
            object.__setattr__(obj, f.name, int(value))
        elif rule.kind == "float":
            object.__setattr__(obj, f.name, float(value))
        elif rule.kind in ("names", "float_pair"):
            object.__setattr__(obj, f.name, tuple(value))


# ------------------------------------------------------------------ conversions
def suggest(name: str, known) -> str:
    """``"did you mean 'x'? "`` for the closest of ``known``, or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def build(cls, base, overrides: Mapping, what: str):
    """``base`` (None: ``cls()``'s defaults) with keyword ``overrides`` of its fields: how
    ``MMM(**options)``, ``fit(**sampler_options)`` and the allocation methods turn keywords
    into a settings value.

    Raises:
        ValueError: ``"unknown <what> 'x'; did you mean 'y'? the options are ..."``, a
            ``base`` of another type, or a bad value (the field's own message).
    """
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; {suggest(unknown[0], names)}"
                         f"the options are {', '.join(names)}")
    if base is None:
        return cls(**overrides)
    if not isinstance(base, cls):
        raise ValueError(f"{base!r} must be a mmm_jax.{cls.__name__}")
    return dataclasses.replace(base, **overrides) if overrides else base


def toml_names(cls) -> dict[str, str]:
    """TOML key -> field name of a settings class."""
    return {(f.metadata["rule"].toml or f.name): f.name for f in fields(cls)}


def from_table(cls, table: Mapping, *, source: str = "config", section: str = "",
               decode: Mapping[str, Callable] | None = None, exclude=(), **extra):
    """Build ``cls`` from a TOML table (keys are the TOML names), checking every key.

    Args:
        cls: a settings dataclass. table: the parsed TOML table. source, section: where it
            came from, for messages. decode: field name -> function turning the table value
            into the field value (e.g. priors). exclude: fields not read from this table.
            extra: further constructor arguments.

    Raises:
        ValueError: ``"<source>: unknown key '<section>.<key>'; did you mean ..."``,
            ``"<source>: key '<section>.<key>' is missing ..."`` or
            ``"<source>: key '<section>.<key>' <problem>, got <value>"``.
    """
    names = {k: v for k, v in toml_names(cls).items() if v not in exclude}
    prefix = f"{section}." if section else ""
    for key, name in names.items():
        field = next(f for f in fields(cls) if f.name == name)
        required = (field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING)
        if required and key not in table and name not in extra:
            kind = _KIND_NAMES[field.metadata["rule"].kind]
            raise ValueError(f"{source}: key '{prefix}{key}' is missing; add it to "
                             f"[{section}] ({kind})")
    kwargs = {}
    for key, value in table.items():
        if key not in names:
            raise ValueError(f"{source}: unknown key '{prefix}{key}'; {suggest(key, names)}"
                             f"known keys: {', '.join(names)}")
        field = next(f for f in fields(cls) if f.name == names[key])
        rule = field.metadata["rule"]
        if decode and field.name in decode:
            value = decode[field.name](value)
        else:
            found = problem(rule, value)
            if found:
                raise ValueError(f"{source}: key '{prefix}{key}' {found}, got {value!r}")
        kwargs[field.name] = value
    try:
        return cls(**kwargs, **extra)
    except ValueError as err:
        raise ValueError(f"{source}: [{section}] {err}") from None


def to_plain(obj, encode: Mapping[str, Callable] | None = None) -> dict:
    """Field name -> JSON/TOML-able value for every persisted option of ``obj``."""
    out = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if encode and f.name in encode:
            value = encode[f.name](value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def from_plain(cls, plain: Mapping, decode: Mapping[str, Callable] | None = None, **extra):
    """Inverse of :func:`to_plain` (unknown names raise ``ValueError``)."""
    known = {f.name for f in fields(cls, persisted=False)}
    unknown = sorted(set(plain) - known)
    if unknown:
        raise ValueError(f"{cls.__name__} has no option {unknown[0]!r}; "
                         f"{suggest(unknown[0], known)}known: {', '.join(sorted(known))}")
    kwargs = {k: (decode[k](v) if decode and k in decode else v) for k, v in plain.items()}
    return cls(**kwargs, **extra)


def rows(obj, encode: Mapping[str, Callable] | None = None) -> list[tuple[str, str, str]]:
    """``(name, value as text, doc)`` for every persisted option: the report's settings."""
    out = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        if encode and f.name in encode:
            value = encode[f.name](value)
        text = json.dumps(value, default=str) if isinstance(value, dict | list | tuple) \
            else repr(value)
        out.append((f.name, text, f.metadata["rule"].doc))
    return out


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def dumps_toml(tables: Mapping[str, Mapping]) -> str:
    """TOML text of ``{table: {key: value}}`` (values: scalars, lists, inline tables; None
    values are left out, as TOML has no null).

    >>> print(dumps_toml({"sampler": {"chains": 2, "dense_mass": False, "x": None}}))
    [sampler]
    chains = 2
    dense_mass = false
    <BLANKLINE>
    """
    parts = []
    for name, table in tables.items():
        lines = [f"[{name}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()
                  if value is not None]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)
