"""TOML run configuration of ``mmm-jax fit``: columns, model, priors, sampler, allocation.

Every table and key is optional except ``[data]`` with ``date``, ``target`` and ``media``.
The ``[model]``, ``[priors]`` and ``[sampler]`` keys are the fields of
:class:`~mmm_jax.ModelSpec` and :class:`~mmm_jax.SamplerConfig` (defaults and rules come from
there, see :mod:`mmm_jax._schema`; ``warmup``, ``samples`` and ``chains`` stand for
``num_warmup``, ``num_samples`` and ``num_chains``)::

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
    trend = true               # (baseline = "linear" only)
    likelihood = "normal"      # or student_t
    media_prior = "contribution"   # coefficient, roi, mroi
    baseline = "piecewise"     # or linear
    time_varying_media = false

    [priors]                   # any numpyro distribution by site name (unit scale)
    contribution_share = { dist = "HalfNormal", scale = 0.2 }
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
    init_jitter = 0.5
    precision = "float32"      # or "float64"

    [calibration]              # optional: lift tests (channel, start, end, delta_spend,
    lift_tests = "lift.csv"    # lift, lift_sd[, geo]), relative to this file

    [allocation]               # optional: allocate a budget after fitting
    periods = 13               # the horizon (needed when the table is there)
    budget = 1_000_000.0       # default: the spend of the last `periods` periods
    relative_bounds = [0.7, 1.3]   # the default; [0, inf]: unbounded
    objective = "mean"         # any other field of mmm_jax.AllocationOptions

Errors are :class:`ConfigError` (a ``ValueError``) whose one-line message names the file, the
key and the fix, e.g. ``robyn.toml: key 'sampler.chains' must be an integer >= 1, got 0``.
"""

from __future__ import annotations

import dataclasses
import pathlib
import tomllib

import numpyro.distributions as dist

from mmm_jax import _schema
from mmm_jax._schema import at_least, option
from mmm_jax.allocate.options import TOML_ENCODE, AllocationOptions
from mmm_jax.sampler_config import SamplerConfig
from mmm_jax.spec import ENCODE, ModelSpec


class ConfigError(ValueError):
    """A problem in a run configuration; the message names the key."""


@dataclasses.dataclass(frozen=True)
class Columns:
    """The ``[data]`` table: column roles, the arguments of ``MMMData.from_dataframe``."""

    date: str = option(kind="str", doc="date column")
    target: str = option(kind="str", doc="KPI column")
    media: tuple = option(kind="names", doc="media columns (spend or impressions)")
    spend: tuple | None = option(None, "names", "spend columns when media are impressions",
                                 optional=True)
    controls: tuple = option((), "names", "control columns")
    geo: str | None = option(None, "str", "geo column (long format)", optional=True)

    def __post_init__(self):
        _schema.validate(self)


@dataclasses.dataclass(frozen=True)
class Allocation:
    """The ``[allocation]`` table: allocate a budget over ``periods`` after fitting.

    ``budget`` and ``periods`` are this class's keys; every other key is a field of
    :class:`~mmm_jax.AllocationOptions` (read from its fields: a new option needs no edit
    here), e.g. ``relative_bounds = [0.8, 1.2]``, ``objective = "cvar"``,
    ``locked = ["tv"]``, ``bounds = { search = [0, 5e4] }``, ``cost_per_unit = { tv = 2.0 }``.
    TOML has no null: ``relative_bounds = [0, inf]`` is the unbounded plan
    (``relative_bounds=None``); ``max_draws`` = all draws and ``locked`` amounts of None
    cannot be written (give a number of draws, or a list of locked channels).
    """

    budget: float | None = option(None, "float", "total budget over the horizon (default: the "
                                  "spend of the last periods)", check=at_least(0.0, strict=True),
                                  optional=True)
    periods: int | None = option(None, "int", "horizon in periods", check=at_least(1),
                                 optional=True)
    options: AllocationOptions = dataclasses.field(default_factory=AllocationOptions)

    def __post_init__(self):
        _schema.validate(self)
        if self.periods is None and (self.budget is not None
                                     or self.options != AllocationOptions()):
            raise ValueError("key 'allocation.periods' is missing; [allocation] needs periods "
                             "(the horizon; budget is optional)")
        self.options.check_budget(self.budget)

    @classmethod
    def from_table(cls, table: dict, source: str = "config") -> Allocation:
        """Read an ``[allocation]`` table (see the class docstring).

        Raises:
            ConfigError: an unknown key (with a did-you-mean) or a bad value, named.
        """
        own = _schema.toml_names(cls)
        known = [*own, *_schema.toml_names(AllocationOptions)]
        for key in table:
            if key not in known:
                raise ConfigError(f"{source}: unknown key 'allocation.{key}'; "
                                  f"{_schema.suggest(key, known)}known keys: {', '.join(known)}")
        options = _schema.from_table(AllocationOptions,
                                     {k: v for k, v in table.items() if k not in own},
                                     source=source, section="allocation")
        return _schema.from_table(cls, {k: v for k, v in table.items() if k in own},
                                  source=source, section="allocation", options=options)

    def to_table(self) -> dict:
        """The ``[allocation]`` table (inverse of :meth:`from_table`; None values left out)."""
        return {**_schema.to_plain(self), **_schema.to_plain(self.options, TOML_ENCODE)}


@dataclasses.dataclass(frozen=True)
class Calibration:
    """The ``[calibration]`` table: experiments the fit is calibrated with."""

    lift_tests: str | None = option(None, "str", "CSV (or parquet) file of lift tests, relative "
                                    "to the configuration file (see mmm_jax.lift_tests)",
                                    optional=True)

    def __post_init__(self):
        _schema.validate(self)


#: table -> the settings class its keys come from (``[priors]`` is the spec's ``priors``).
TABLES = {"data": Columns, "model": ModelSpec, "sampler": SamplerConfig,
          "allocation": Allocation, "calibration": Calibration}
SECTIONS = (*TABLES, "priors")
SEED_KEY = "seed"  # [sampler] seed: the fit's seed (not a SamplerConfig field)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """A validated run configuration.

    Attributes:
        columns: keyword arguments of :meth:`mmm_jax.MMMData.from_dataframe`.
        spec: the :class:`~mmm_jax.ModelSpec`. sampler: the :class:`~mmm_jax.SamplerConfig`.
        seed: the fit's seed. allocation: the :class:`Allocation` (``budget``, ``periods``,
            ``options``) when the configuration has an ``[allocation]`` table, else None.
        source: where it was read from (for messages).
        lift_tests: the ``[calibration]`` lift-test file as written (relative to the
            configuration file), or None.
    """

    columns: dict
    spec: ModelSpec
    sampler: SamplerConfig
    seed: int
    allocation: Allocation | None
    source: str = "config"
    lift_tests: str | None = None

    @property
    def model(self) -> dict:
        """Keyword arguments of :class:`mmm_jax.MMM` (every field of the spec)."""
        return {f.name: getattr(self.spec, f.name) for f in dataclasses.fields(self.spec)}

    @property
    def fit(self) -> dict:
        """Keyword arguments of :meth:`mmm_jax.MMM.fit` (saved sampler fields and seed)."""
        return {**{f.name: getattr(self.sampler, f.name) for f in _schema.fields(self.sampler)},
                "seed": self.seed}


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
                          f"{name!r}; {_schema.suggest(name, known)}e.g. Normal, HalfNormal, Beta, "
                          "Gamma, LogNormal")
    expand = spec.get("expand")
    params = {k: v for k, v in spec.items() if k not in ("dist", "expand")}
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
        out = cls(**values)
    except (TypeError, ValueError) as err:
        expected = ", ".join(cls.arg_constraints)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"{source}: key {key!r}: {name}({', '.join(params)}) is invalid "
                          f"({reason}); {name} takes {expected}") from None
    return out.expand(tuple(expand)) if expand else out


def prior_table(site: str, prior: dist.Distribution) -> dict:
    """The ``[priors]`` entry of a prior (inverse of :func:`build_prior`)."""
    plain = ENCODE["priors"]({site: prior})[site]
    return {"dist": plain["dist"], **plain["params"],
            **({"expand": plain["expand"]} if "expand" in plain else {})}


def _table(source: str, raw: dict, name: str) -> dict:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table, got {table!r}")
    return table


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
            raise ConfigError(f"{source}: unknown table [{name}]; {_schema.suggest(name, SECTIONS)}"
                              f"known tables: {', '.join(f'[{s}]' for s in SECTIONS)}")
    if "data" not in raw:
        raise ConfigError(f"{source}: table [data] is missing; it names the date, target and "
                          "media columns")
    try:
        columns = _schema.from_table(Columns, _table(source, raw, "data"), source=source,
                                     section="data")
        priors = {site: build_prior(source, site, spec)
                  for site, spec in _table(source, raw, "priors").items()}
        spec = _schema.from_table(ModelSpec, _table(source, raw, "model"), source=source,
                                  section="model", exclude=("priors",), priors=priors)
        sampler_table = dict(_table(source, raw, "sampler"))
        seed = sampler_table.pop(SEED_KEY, 0)
        problem = _schema.problem(_schema.Rule("int", "seed", at_least(0)), seed)
        if problem:
            raise ConfigError(f"{source}: key 'sampler.{SEED_KEY}' {problem}, got {seed!r}")
        sampler = _schema.from_table(SamplerConfig, sampler_table, source=source,
                                     section="sampler")
        allocation = Allocation.from_table(_table(source, raw, "allocation"), source)
        calibration = _schema.from_table(Calibration, _table(source, raw, "calibration"),
                                         source=source, section="calibration")
    except ConfigError:
        raise
    except ValueError as err:
        raise ConfigError(str(err)) from None
    plain = {k: (list(v) if isinstance(v, tuple) else v)
             for k, v in _schema.to_plain(columns).items()}
    return RunConfig(columns=plain, spec=spec, sampler=sampler, seed=int(seed),
                     allocation=allocation if allocation.periods is not None else None,
                     source=source, lift_tests=calibration.lift_tests)


def dumps_config(config: RunConfig) -> str:
    """The TOML text of a run configuration (``parse_config(tomllib.loads(text))`` gives it
    back): every field of the spec and sampler is written, priors as ``[priors]``."""
    model = {k: v for k, v in _schema.to_plain(config.spec).items() if k != "priors"}
    tables = {"data": config.columns, "model": model,
              "priors": {site: prior_table(site, p) for site, p in config.spec.priors.items()},
              "sampler": {**{(f.metadata["rule"].toml or f.name): getattr(config.sampler, f.name)
                             for f in _schema.fields(config.sampler)}, SEED_KEY: config.seed}}
    if config.allocation is not None:
        tables["allocation"] = config.allocation.to_table()
    if config.lift_tests is not None:
        tables["calibration"] = {"lift_tests": config.lift_tests}
    return _schema.dumps_toml({k: v for k, v in tables.items() if v})


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
    for site in config.spec.priors:
        if site not in sites:
            raise ConfigError(f"{config.source}: key 'priors.{site}': this model has no site "
                              f"{site!r}; {_schema.suggest(site, sites)}its sites are "
                              f"{', '.join(sorted(sites))}")
