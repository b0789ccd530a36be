"""pytest-demoseed: realistic, reproducible demo data for pytest suites on SQLAlchemy."""

from __future__ import annotations

from .api import Report, clear, database_fingerprint, seed
from .context import PhaseContext
from .dataset import Dataset
from .determinism import derive_seed, seeded_faker, seeded_random
from .distributions import apportion, choose_parents, progression, spread_times, zipf_weights
from .factory_binding import bound_factories, factories_in
from .factory_columns import BatchColumn, FactoryPlan, compile_factory, factory_batches
from .progress import STOP, BuildCancelled, JobStatus
from .registry import get_scenario, register, scenario_names
from .reporters import LatestStatus
from .samples import SamplePool
from .scenario import Batch, Phase, Scenario, ScenarioError, phase
from .spec import ScenarioSpec, resolve_spec

__version__ = "0.1.0"

__all__ = [
    "STOP",
    "Batch",
    "BatchColumn",
    "BuildCancelled",
    "Dataset",
    "FactoryPlan",
    "JobStatus",
    "LatestStatus",
    "Phase",
    "PhaseContext",
    "Report",
    "SamplePool",
    "Scenario",
    "ScenarioError",
    "ScenarioSpec",
    "__version__",
    "apportion",
    "bound_factories",
    "choose_parents",
    "clear",
    "compile_factory",
    "database_fingerprint",
    "derive_seed",
    "factories_in",
    "factory_batches",
    "get_scenario",
    "phase",
    "progression",
    "register",
    "resolve_spec",
    "scenario_names",
    "seed",
    "seeded_faker",
    "seeded_random",
    "spread_times",
    "zipf_weights",
]
