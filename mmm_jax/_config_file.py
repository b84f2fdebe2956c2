"""TOML run configuration of ``mmm-jax fit``: columns, model, priors, sampler, allocation.

Every table and key is optional except ``[data]`` with ``date``, ``target`` and ``media``::

    [data]                     # column roles (MMMData.from_dataframe)
    date = "DATE"
    target = "revenue"
    media = ["tv_S", "ooh_S", "print_S", "facebook_S", "search_S"]
    spend = []                 # spend columns when media are impressions (default: media)
    controls = ["competitor_sales_B", "newsletter"]
    geo = "geo"                # long-format geo data

    [model]                    # MMM(...)
    adstock = "geometric"      # delayed, carryover, weibull_cdf, weibull_pdf, none
    saturation = "hill"        # logistic, michaelis_menten, power, none
    seasonality_degree = 2
    seasonality_period = 365.25
    trend = true
    likelihood = "normal"      # or student_t

    [priors]                   # any numpyro distribution by site name (unit scale)
    beta = { dist = "HalfNormal", scale = 0.5 }
    alpha = { dist = "Beta", concentration1 = 2.0, concentration0 = 2.0 }

    [sampler]                  # MMM.fit(...)
    warmup = 1000
    samples = 1000
    chains = 4
    seed = 0
    target_accept = 0.85
    max_tree_depth = 10
    dense_mass = false
    chain_method = "auto"
    precision = "float32"      # or "float64"

    [allocation]               # optional: allocate this budget after fitting
    budget = 1_000_000.0
    periods = 13

Errors are :class:`ConfigError` (a ``ValueError``) whose one-line message names the file, the
key and the fix, e.g. ``robyn.toml: key 'sampler.chains' must be an integer >= 1, got 0``.
"""

from __future__ import annotations

import dataclasses
import difflib
import pathlib
import tomllib
from collections.abc import Callable
from typing import Any

import numpyro.distributions as dist

from mmm_jax.config import LIKELIHOODS
from mmm_jax.sampler import CHAIN_METHODS, PRECISIONS
from mmm_jax.transforms import ADSTOCKS, SATURATIONS

_REQUIRED = object()


class ConfigError(ValueError):
    """A problem in a run configuration; the message names the key."""


@dataclasses.dataclass(frozen=True)
class _Key:
    kind: str  # "str" | "int" | "float" | "bool" | "names"
    default: Any = _REQUIRED
    rule: Callable[[Any], str | None] | None = None  # returns the problem, or None


def _at_least(low, *, strict=False):
    def rule(v):
        bad = v <= low if strict else v < low
        return f"must be {'>' if strict else '>='} {low}, got {v!r}" if bad else None
    return rule


def _one_of(choices):
    choices = sorted(choices)

    def rule(v):
        return None if v in choices else f"must be one of {choices}, got {v!r}"
    return rule


def _open_unit(v):
    return None if 0.0 < v < 1.0 else f"must be between 0 and 1 (exclusive), got {v!r}"


SCHEMA: dict[str, dict[str, _Key]] = {
    "data": {"date": _Key("str"), "target": _Key("str"), "media": _Key("names"),
             "spend": _Key("names", None), "controls": _Key("names", []),
             "geo": _Key("str", None)},
    "model": {"adstock": _Key("str", "geometric", _one_of(ADSTOCKS)),
              "saturation": _Key("str", "hill", _one_of(SATURATIONS)),
              "seasonality_degree": _Key("int", 2, _at_least(0)),
              "seasonality_period": _Key("float", 365.25, _at_least(0.0, strict=True)),
              "trend": _Key("bool", True),
              "likelihood": _Key("str", "normal", _one_of(LIKELIHOODS))},
    "sampler": {"warmup": _Key("int", 1000, _at_least(0)),
                "samples": _Key("int", 1000, _at_least(1)),
                "chains": _Key("int", 4, _at_least(1)),
                "seed": _Key("int", 0, _at_least(0)),
                "target_accept": _Key("float", 0.85, _open_unit),
                "max_tree_depth": _Key("int", 10, _at_least(1)),
                "dense_mass": _Key("bool", False),
                "chain_method": _Key("str", "auto", _one_of(CHAIN_METHODS)),
                "precision": _Key("str", "float32", _one_of(PRECISIONS))},
    "allocation": {"budget": _Key("float", None, _at_least(0.0, strict=True)),
                   "periods": _Key("int", None, _at_least(1))},
}
SECTIONS = (*SCHEMA, "priors")
#: ``[sampler]`` key -> ``MMM.fit`` argument.
FIT_ARGS = {"warmup": "num_warmup", "samples": "num_samples", "chains": "num_chains"}
_KIND_NAMES = {"str": "a string", "int": "an integer", "float": "a number",
               "bool": "true or false", "names": "a list of column names (strings)"}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """A validated run configuration.

    Attributes:
        columns: keyword arguments of :meth:`mmm_jax.MMMData.from_dataframe`.
        model: keyword arguments of :class:`mmm_jax.MMM` (``priors`` built as numpyro
            distributions).
        fit: keyword arguments of :meth:`mmm_jax.MMM.fit`.
        allocation: ``{"budget": ..., "periods": ...}`` or None.
        source: where it was read from (for messages).
    """

    columns: dict
    model: dict
    fit: dict
    allocation: dict | None
    source: str = "config"


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _typed(source: str, key: str, spec: _Key, value):
    def fail(problem: str):
        raise ConfigError(f"{source}: key {key!r} {problem}")

    kind = spec.kind
    if kind == "names":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            fail(f"must be {_KIND_NAMES[kind]}, got {value!r}")
    elif kind == "bool":
        if not isinstance(value, bool):
            fail(f"must be {_KIND_NAMES[kind]}, got {value!r}")
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"must be {_KIND_NAMES[kind]}, got {value!r}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail(f"must be {_KIND_NAMES[kind]}, got {value!r}")
        value = float(value)
    elif not isinstance(value, str):
        fail(f"must be {_KIND_NAMES[kind]}, got {value!r}")
    if spec.rule is not None:
        problem = spec.rule(value)
        if problem:
            fail(problem)
    return value


def _section(source: str, raw: dict, name: str) -> dict:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table, got {table!r}")
    schema = SCHEMA[name]
    for key in table:
        if key not in schema:
            raise ConfigError(f"{source}: unknown key '{name}.{key}'; "
                              f"{_suggest(key, schema)}known keys: {', '.join(schema)}")
    out = {}
    for key, spec in schema.items():
        if key in table:
            out[key] = _typed(source, f"{name}.{key}", spec, table[key])
        elif spec.default is _REQUIRED:
            raise ConfigError(f"{source}: key '{name}.{key}' is missing; add it to [{name}] "
                              f"({_KIND_NAMES[spec.kind]})")
        else:
            out[key] = spec.default
    return out


def build_prior(source: str, site: str, spec) -> dist.Distribution:
    """A numpyro distribution from ``{dist = "Name", <param> = value, ...}`` (validated)."""
    key = f"priors.{site}"
    if not isinstance(spec, dict) or not isinstance(spec.get("dist"), str):
        raise ConfigError(f"{source}: key {key!r} must be a table like "
                          f"{{ dist = \"HalfNormal\", scale = 0.5 }}, got {spec!r}")
    name = spec["dist"]
    cls = getattr(dist, name, None)
    if not (isinstance(cls, type) and issubclass(cls, dist.Distribution)):
        known = [n for n in dir(dist) if isinstance(getattr(dist, n), type)
                 and issubclass(getattr(dist, n), dist.Distribution)]
        raise ConfigError(f"{source}: key '{key}.dist' names no numpyro distribution "
                          f"{name!r}; {_suggest(name, known)}e.g. Normal, HalfNormal, Beta, "
                          "Gamma, LogNormal")
    params = {k: v for k, v in spec.items() if k != "dist"}
    for k, v in params.items():
        ok = isinstance(v, int | float) and not isinstance(v, bool) or (
            isinstance(v, list) and all(isinstance(x, int | float) for x in v))
        if not ok:
            raise ConfigError(f"{source}: key '{key}.{k}' must be a number or a list of "
                              f"numbers, got {v!r}")
    values = {k: float(v) if not isinstance(v, list) else [float(x) for x in v]
              for k, v in params.items()}
    try:
        cls(**values, validate_args=True)  # checks names and ranges of the parameters
        return cls(**values)
    except (TypeError, ValueError) as err:
        expected = ", ".join(cls.arg_constraints)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"{source}: key {key!r}: {name}({', '.join(params)}) is invalid "
                          f"({reason}); {name} takes {expected}") from None


def parse_config(raw: dict, source: str = "config") -> RunConfig:
    """Validate a parsed TOML document (see the module docstring for the keys).

    Raises:
        ConfigError: naming the first bad key.

    >>> cfg = parse_config({"data": {"date": "d", "target": "y", "media": ["tv"]},
    ...                     "sampler": {"chains": 2}})
    >>> cfg.fit["num_chains"], cfg.model["adstock"], cfg.columns["media"]
    (2, 'geometric', ['tv'])
    >>> parse_config({"data": {"date": "d", "target": "y", "media": ["tv"]},
    ...               "sampler": {"chians": 2}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mmm_jax._config_file.ConfigError: config: unknown key 'sampler.chians'; did you mean ...
    """
    for name in raw:
        if name not in SECTIONS:
            raise ConfigError(f"{source}: unknown table [{name}]; {_suggest(name, SECTIONS)}"
                              f"known tables: {', '.join(f'[{s}]' for s in SECTIONS)}")
    if "data" not in raw:
        raise ConfigError(f"{source}: table [data] is missing; it names the date, target and "
                          "media columns")
    columns = _section(source, raw, "data")
    model = _section(source, raw, "model")
    sampler = _section(source, raw, "sampler")
    allocation = _section(source, raw, "allocation")
    priors_raw = raw.get("priors", {})
    if not isinstance(priors_raw, dict):
        raise ConfigError(f"{source}: [priors] must be a table of site = {{ dist = ... }}")
    model["priors"] = {site: build_prior(source, site, spec) for site, spec in priors_raw.items()}
    fit = {FIT_ARGS.get(k, k): v for k, v in sampler.items()}
    if (allocation["budget"] is None) != (allocation["periods"] is None):
        missing = "budget" if allocation["budget"] is None else "periods"
        raise ConfigError(f"{source}: key 'allocation.{missing}' is missing; [allocation] "
                          "needs both budget and periods")
    return RunConfig(columns=columns, model=model, fit=fit,
                     allocation=allocation if allocation["budget"] is not None else None,
                     source=source)


def load_config(path) -> RunConfig:
    """Read and validate a TOML configuration file.

    Raises:
        ConfigError: the file is missing, is not valid TOML, or has a bad key.
    """
    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {err}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path.name}: not valid TOML: {err}") from None
    return parse_config(raw, source=path.name)


def check_prior_sites(config: RunConfig, sites) -> None:
    """Raise :class:`ConfigError` naming ``priors.<site>`` for a site the model lacks."""
    for site in config.model["priors"]:
        if site not in sites:
            raise ConfigError(f"{config.source}: key 'priors.{site}': this model has no site "
                              f"{site!r}; {_suggest(site, sites)}its sites are "
                              f"{', '.join(sorted(sites))}")
