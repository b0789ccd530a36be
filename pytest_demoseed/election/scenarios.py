"""The built-in election scenarios, handed to pytest-demoseed through its ``pytest_demoseed.scenarios``
entry point (``SCENARIOS``), exactly as a user's package hands over its own."""

from __future__ import annotations

import datetime as dt

from pytest_demoseed import Scenario
from pytest_demoseed.election import models
from pytest_demoseed.election.models import ELECTION_DAY
from pytest_demoseed.election.phases import ELECTION_PHASES

__all__ = ["BASELINE", "CLOCK", "ELECTION_DAY", "SCENARIOS"]

#: The scenarios' fixed clock: the start of election day. Every date is computed from it,
#: never from "now".
CLOCK = dt.datetime.combine(ELECTION_DAY, dt.time())

BASELINE = Scenario(
    name="baseline",
    description="4 parties x 3 candidates + 2 independents, 8 committees, 2,000 electors, "
    "15 members, 300 guarantees, 75% attendance",
    phases=ELECTION_PHASES,
    metadata=models.Base.metadata,
    clock=CLOCK,
    root_model=models.Election,
    root_key="election_id",
)

SMALL = BASELINE.derive(
    "small",
    "a tiny election for unit tests: 2 parties x 2 candidates, 2 committees, 50 electors, "
    "3 members x 5 guarantees, 50% attendance",
    parties={"count": 2, "candidates_per_party": 2, "independent_candidates": 0},
    committees={"count": 2},
    electors={"count": 50},
    members={"count": 3},
    guarantees={"per_member": 5},
    attendance={"rate": 0.5},
)

EMPTY = BASELINE.derive(
    "empty",
    "the election row only",
    parties={"enabled": False},
    committees={"enabled": False},
    electors={"enabled": False},
    members={"enabled": False},
    guarantees={"enabled": False},
    attendance={"enabled": False},
)

LANDSLIDE = BASELINE.derive(
    "landslide",
    "like baseline, but one party holds 62% of the guarantees",
    guarantees={"party_weights": "0.62,0.2,0.1,0.08"},
)

CLOSE_RACE = BASELINE.derive(
    "close-race",
    "like baseline, but the two leading parties are within 2 points of each other",
    guarantees={"party_weights": "0.41,0.40,0.1,0.09"},
)

LOW_TURNOUT = BASELINE.derive(
    "low-turnout",
    "like baseline, with 20% attendance",
    attendance={"rate": 0.2},
)

LARGE = BASELINE.derive(
    "large",
    "about a million rows: 20 parties x 10 candidates, 500 committees, 500,000 electors, "
    "5,000 members x 20 guarantees, 70% attendance",
    parties={"count": 20, "candidates_per_party": 10},
    committees={"count": 500},
    electors={"count": 500_000},
    members={"count": 5_000},
    guarantees={"per_member": 20, "batch_size": 10_000},
    attendance={"rate": 0.7, "batch_size": 10_000},
)

#: Every built-in scenario, in the order ``demoseed list`` shows them.
SCENARIOS = (BASELINE, SMALL, EMPTY, LANDSLIDE, CLOSE_RACE, LOW_TURNOUT, LARGE)
