"""pytest-demoseed: realistic, reproducible demo data for pytest suites on SQLAlchemy.

The public names load on first use (PEP 562), so that importing the package, as pytest does
to reach the plugin, costs nothing: SQLAlchemy, Faker and factory_boy are imported only when a
name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_demoseed.api import Report, clear, database_fingerprint, seed
    from pytest_demoseed.build.dataset import Dataset
    from pytest_demoseed.build.progress import STOP, JobStatus, LatestStatus
    from pytest_demoseed.errors import BuildCancelled, ScenarioError, SeedRefused
    from pytest_demoseed.factories.binding import bound_factories, factories_in
    from pytest_demoseed.factories.columns import BatchColumn, FactoryPlan, compile_factory, factory_batches
    from pytest_demoseed.generate.determinism import (
        derive_seed,
        reseed_factory_boy,
        seeded_faker,
        seeded_random,
    )
    from pytest_demoseed.generate.distributions import (
        apportion,
        choose_parents,
        progression,
        spread_times,
        zipf_weights,
    )
    from pytest_demoseed.generate.samples import SamplePool
    from pytest_demoseed.scenario.context import PhaseContext
    from pytest_demoseed.scenario.declare import Batch, Phase, Scenario, phase
    from pytest_demoseed.scenario.registry import get_scenario, register, scenario_names
    from pytest_demoseed.scenario.spec import ScenarioSpec, resolve_spec

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_PUBLIC = {
    "Batch": "pytest_demoseed.scenario.declare",
    "BatchColumn": "pytest_demoseed.factories.columns",
    "BuildCancelled": "pytest_demoseed.errors",
    "Dataset": "pytest_demoseed.build.dataset",
    "FactoryPlan": "pytest_demoseed.factories.columns",
    "JobStatus": "pytest_demoseed.build.progress",
    "LatestStatus": "pytest_demoseed.build.progress",
    "Phase": "pytest_demoseed.scenario.declare",
    "PhaseContext": "pytest_demoseed.scenario.context",
    "Report": "pytest_demoseed.api",
    "STOP": "pytest_demoseed.build.progress",
    "SamplePool": "pytest_demoseed.generate.samples",
    "Scenario": "pytest_demoseed.scenario.declare",
    "ScenarioError": "pytest_demoseed.errors",
    "SeedRefused": "pytest_demoseed.errors",
    "ScenarioSpec": "pytest_demoseed.scenario.spec",
    "apportion": "pytest_demoseed.generate.distributions",
    "bound_factories": "pytest_demoseed.factories.binding",
    "choose_parents": "pytest_demoseed.generate.distributions",
    "clear": "pytest_demoseed.api",
    "compile_factory": "pytest_demoseed.factories.columns",
    "database_fingerprint": "pytest_demoseed.api",
    "derive_seed": "pytest_demoseed.generate.determinism",
    "factories_in": "pytest_demoseed.factories.binding",
    "factory_batches": "pytest_demoseed.factories.columns",
    "get_scenario": "pytest_demoseed.scenario.registry",
    "phase": "pytest_demoseed.scenario.declare",
    "progression": "pytest_demoseed.generate.distributions",
    "register": "pytest_demoseed.scenario.registry",
    "reseed_factory_boy": "pytest_demoseed.generate.determinism",
    "resolve_spec": "pytest_demoseed.scenario.spec",
    "scenario_names": "pytest_demoseed.scenario.registry",
    "seed": "pytest_demoseed.api",
    "seeded_faker": "pytest_demoseed.generate.determinism",
    "seeded_random": "pytest_demoseed.generate.determinism",
    "spread_times": "pytest_demoseed.generate.distributions",
    "zipf_weights": "pytest_demoseed.generate.distributions",
}

__all__ = [
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
    "STOP",
    "SamplePool",
    "Scenario",
    "ScenarioError",
    "SeedRefused",
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
    "reseed_factory_boy",
    "resolve_spec",
    "scenario_names",
    "seed",
    "seeded_faker",
    "seeded_random",
    "spread_times",
    "zipf_weights",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_demoseed' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
