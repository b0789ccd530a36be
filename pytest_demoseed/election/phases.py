"""The election phases: rows shaped by the election factories, made a batch at a time.

What a row looks like is declared once, in ``factories``; each phase compiles its factory into
column generators (:func:`~pytest_demoseed.factories.columns.factory_batches`) and supplies only
what the phase decides: keys from the builder's allocator, foreign keys, quotas, timestamps on
the scenario's clock. Later phases read earlier phases' results from ``ctx.shared`` (or, when
the earlier phase is off, from rows already in the database).
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pytest_demoseed import (
    Batch,
    BatchColumn,
    PhaseContext,
    ScenarioError,
    apportion,
    factory_batches,
    phase,
    spread_times,
)
from pytest_demoseed.election import factories, models
from pytest_demoseed.election.naming import PARTY_ADJECTIVES, PARTY_NOUNS
from pytest_demoseed.settings_kinds import (
    boolean,
    choice,
    fraction,
    integer,
    optional_integer,
    text,
    weights,
)

__all__ = ["ELECTION_PHASES", "ElectorRoll"]

ROW_BATCH = 10_000
GROUP_WEIGHTS = {"strong": 0.5, "medium": 0.3, "weak": 0.2}
#: Share of the day's votes in each polling hour, 08:00 to 20:00: a morning and an evening peak.
HOURLY_TURNOUT = (6, 9, 10, 9, 7, 6, 6, 7, 9, 11, 12, 8)


def _election_id(ctx: PhaseContext) -> int:
    return int(ctx.need("election_id", "election"))


def _picked(values: Sequence[Any], positions: Sequence[int]) -> Callable[[int, int], list[Any]]:
    """A batch column drawing ``values[positions[row]]`` for rows ``start..stop-1``, through a
    C-level ``map`` (no Python code per row)."""
    return lambda start, stop: list(map(values.__getitem__, positions[start:stop]))


# --- election ----------------------------------------------------------------------------------


def _load_election(ctx: PhaseContext) -> None:
    row = ctx.conn.execute(
        sa.select(models.Election.id, models.Election.election_date).order_by(models.Election.id.desc())
    ).first()
    if row is not None:
        ctx.share("election_id", row.id)
        ctx.share("election_date", row.election_date)


@phase(
    "election",
    tables=("elections",),
    settings={"name": text("Demo General Election", "the election's name")},
    load_existing=_load_election,
    description="the election row (off: use the newest election already in the database)",
)
def election_phase(ctx: PhaseContext) -> Iterator[Batch]:
    (election_id,) = ids = ctx.allocate("elections", 1)
    day = ctx.clock.date()
    ctx.share("election_id", election_id)
    ctx.share("election_date", day)
    yield from factory_batches(
        ctx, factories.ElectionFactory, 1, ids=ids, fixed={"name": ctx["name"], "election_date": day}
    )
    ctx.progress(created=1)


# --- parties and candidates ---------------------------------------------------------------------


def _load_parties(ctx: PhaseContext) -> None:
    election_id = ctx.shared.get("election_id")
    ids = ctx.conn.execute(
        sa.select(models.Party.id)
        .where(models.Party.election_id == election_id)
        .order_by(models.Party.number)
    ).scalars()
    ctx.share("party_ids", list(ids))


def _party_names(ctx: PhaseContext, count: int) -> list[str]:
    combos = [f"{a} {n}" for a in PARTY_ADJECTIVES for n in PARTY_NOUNS]
    if count <= len(combos):
        return ctx.rng.sample(combos, count)
    return [f"{combos[i % len(combos)]} {i // len(combos) + 1}" for i in range(count)]


@phase(
    "parties",
    tables=("parties", "candidates"),
    settings={
        "count": integer(4, "parties to create"),
        "candidates_per_party": integer(3, "candidates on each party's list"),
        "independent_candidates": integer(2, "candidates without a party"),
    },
    requires=("election",),
    load_existing=_load_parties,
    description="parties with their candidates, plus independent candidates",
)
def parties_phase(ctx: PhaseContext) -> Iterator[Batch]:
    election_id = _election_id(ctx)
    count, per_party = ctx["count"], ctx["candidates_per_party"]
    party_ids = ctx.allocate("parties", count)
    numbers = range(1, count + 1)
    names = _party_names(ctx, count)  # unique and readable; colors come from the factory
    yield from factory_batches(
        ctx,
        factories.PartyFactory,
        count,
        ids=party_ids,
        fixed={"election_id": election_id, "name": names, "number": numbers},
    )
    ctx.share("party_ids", list(party_ids))
    total = count * per_party + ctx["independent_candidates"]
    owners: list[int | None] = [pid for pid in party_ids for _ in range(per_party)]
    owners += [None] * (total - len(owners))
    yield from factory_batches(
        ctx,
        factories.CandidateFactory,
        total,
        fixed={"election_id": election_id, "party_id": owners, "number": range(1, total + 1)},
    )
    ctx.progress(created=count, candidates=total)


# --- committees ---------------------------------------------------------------------------------


def _load_committees(ctx: PhaseContext) -> None:
    election_id = ctx.shared.get("election_id")
    ids = ctx.conn.execute(
        sa.select(models.Committee.id)
        .where(models.Committee.election_id == election_id)
        .order_by(models.Committee.id)
    ).scalars()
    ctx.share("committee_ids", list(ids))


@phase(
    "committees",
    tables=("committees",),
    settings={"count": integer(8, "polling committees to create")},
    requires=("election",),
    load_existing=_load_committees,
    description="polling committees, each with a unique code",
)
def committees_phase(ctx: PhaseContext) -> Iterator[Batch]:
    count = ctx["count"]
    ids = ctx.allocate("committees", count)
    fixed = {"election_id": _election_id(ctx)}
    yield from factory_batches(
        ctx, factories.CommitteeFactory, count, ids=ids, fixed=fixed, batch_size=ROW_BATCH
    )
    ctx.share("committee_ids", list(ids))
    ctx.progress(created=count)


# --- electors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElectorRoll:
    """Elector ids with each one's committee, in id order: what guarantees and attendance need."""

    ids: Sequence[int]
    committees: Sequence[int]

    def __len__(self) -> int:
        return len(self.ids)


def _load_electors(ctx: PhaseContext) -> None:
    election_id = ctx.shared.get("election_id")
    ids = array("q")
    committees = array("q")
    result = ctx.conn.execute(
        sa.select(models.Elector.id, models.Elector.committee_id)
        .where(models.Elector.election_id == election_id)
        .order_by(models.Elector.id)
    )
    for elector_id, committee_id in result:
        ids.append(elector_id)
        committees.append(committee_id)
    ctx.share("electors", ElectorRoll(ids, committees))


def _new_committees_needed(
    all_settings: Mapping[str, Mapping[str, Any]], phase_name: str, needs_them: bool, what: str
) -> None:
    """Rows that must each get a committee, in a build that makes none: an error before it starts."""
    mine, committees = all_settings[phase_name], all_settings["committees"]
    if mine["enabled"] and needs_them and mine["count"] and committees["enabled"] and not committees["count"]:
        raise ScenarioError(
            f"{phase_name}.count={mine['count']} needs at least one committee for {what}, "
            "but committees.count is 0"
        )


def _check_electors(all_settings: Mapping[str, Mapping[str, Any]]) -> None:
    _new_committees_needed(all_settings, "electors", True, "each elector")


@phase(
    "electors",
    tables=("electors",),
    settings={"count": integer(2000, "electors on the roll, each assigned to a committee")},
    requires=("election", "committees"),
    check=_check_electors,
    load_existing=_load_electors,
    description="the electoral roll: names, genders, birth dates, unique national ids",
)
def electors_phase(ctx: PhaseContext) -> Iterator[Batch]:
    election_id = _election_id(ctx)
    count = ctx["count"]
    committee_ids = ctx.need("committee_ids", "committees")
    if count and not committee_ids:
        raise ScenarioError("phase 'electors' needs at least one committee (committees.count >= 1)")
    ids = ctx.allocate("electors", count)
    assigned = array("q")

    def committees(start: int, stop: int) -> list[int]:
        drawn = ctx.rng.choices(committee_ids, k=stop - start)
        assigned.extend(drawn)
        return drawn

    fixed = {
        "election_id": election_id,
        "committee_id": BatchColumn(committees),
        "election_day": ctx.clock.date(),
    }
    made = factory_batches(ctx, factories.ElectorFactory, count, ids=ids, fixed=fixed, batch_size=ROW_BATCH)
    for batch in made:
        yield batch
        ctx.progress(created=len(assigned))
    ctx.share("electors", ElectorRoll(ids, assigned))
    ctx.progress(created=count)


# --- members ------------------------------------------------------------------------------------


def _load_members(ctx: PhaseContext) -> None:
    election_id = ctx.shared.get("election_id")
    ids = ctx.conn.execute(
        sa.select(models.Member.id).where(models.Member.election_id == election_id).order_by(models.Member.id)
    ).scalars()
    ctx.share("member_ids", list(ids))


def _members_need(settings: Mapping[str, Any]) -> tuple[str, ...]:
    return ("election", "committees") if settings.get("assign_to_committees") else ("election",)


def _check_members(all_settings: Mapping[str, Mapping[str, Any]]) -> None:
    assign = bool(all_settings["members"]["assign_to_committees"])
    _new_committees_needed(all_settings, "members", assign, "members.assign_to_committees")


@phase(
    "members",
    tables=("members",),
    settings={
        "count": integer(15, "campaign members (users) to create"),
        "assign_to_committees": boolean(True, "give each member a committee (round robin)"),
    },
    requires=_members_need,
    check=_check_members,
    load_existing=_load_members,
    description="campaign members with unique emails, optionally assigned to committees",
)
def members_phase(ctx: PhaseContext) -> Iterator[Batch]:
    election_id = _election_id(ctx)
    count = ctx["count"]
    assign = ctx["assign_to_committees"]
    committee_ids: list[int] = ctx.shared.get("committee_ids", []) if assign else []
    if assign and count and not committee_ids:
        raise ScenarioError("members.assign_to_committees needs at least one committee")
    ids = ctx.allocate("members", count)
    fixed: dict[str, Any] = {"election_id": election_id}
    if committee_ids:  # round robin, so every committee has its members
        fixed["committee_id"] = lambda row: committee_ids[row % len(committee_ids)]
    yield from factory_batches(
        ctx, factories.MemberFactory, count, ids=ids, fixed=fixed, batch_size=ROW_BATCH
    )
    ctx.share("member_ids", list(ids))
    ctx.progress(created=count)


# --- guarantees ---------------------------------------------------------------------------------


def _party_quotas(ctx: PhaseContext, party_ids: Sequence[int], total: int) -> list[int]:
    wanted = ctx["party_weights"]
    if wanted == "even":
        shares: Sequence[float] = [1.0] * len(party_ids)
    else:
        if len(wanted) != len(party_ids):
            raise ScenarioError(
                f"guarantees.party_weights has {len(wanted)} weights but there are {len(party_ids)} parties"
            )
        shares = wanted
    return apportion(shares, total)


def _planned_guarantees(all_settings: Mapping[str, Mapping[str, Any]]) -> int | None:
    """How many guarantees a build will make, when the members and electors are new (else None)."""
    mine, members, electors = (all_settings[name] for name in ("guarantees", "members", "electors"))
    if not (members["enabled"] and electors["enabled"]):
        return None
    total = min(int(members["count"]) * int(mine["per_member"]), int(electors["count"]))
    return total if mine["total_limit"] is None else min(total, int(mine["total_limit"]))


def _check_guarantees(all_settings: Mapping[str, Mapping[str, Any]]) -> None:
    mine, parties = all_settings["guarantees"], all_settings["parties"]
    if mine["enabled"] and parties["enabled"] and not parties["count"] and _planned_guarantees(all_settings):
        raise ScenarioError(
            f"guarantees would make {_planned_guarantees(all_settings)} rows, each for a party, "
            "but parties.count is 0"
        )
    wanted = mine["party_weights"]
    if mine["enabled"] and parties["enabled"] and wanted != "even" and len(wanted) != parties["count"]:
        raise ScenarioError(
            f"guarantees.party_weights has {len(wanted)} weights but parties.count is {parties['count']}"
        )


@phase(
    "guarantees",
    tables=("guarantees",),
    settings={
        "per_member": integer(20, "guarantees each member records"),
        "total_limit": optional_integer(None, "cap on guarantees in all (none: no cap)"),
        "batch_size": integer(100, "rows per insert batch", minimum=1),
        "group_distribution": choice("random", ("random", "even", "weighted"), "strong/medium/weak mix"),
        "party_weights": weights("even", "'even' or one weight per party, e.g. 0.62,0.2,0.1,0.08"),
    },
    requires=("election", "parties", "electors", "members"),
    check=_check_guarantees,
    description="pledges of support: one per elector at most, split across parties by weight",
)
def guarantees_phase(ctx: PhaseContext) -> Iterator[Batch]:
    election_id = _election_id(ctx)
    party_ids = ctx.need("party_ids", "parties")
    roll: ElectorRoll = ctx.need("electors", "electors")
    member_ids = ctx.need("member_ids", "members")
    total = len(member_ids) * ctx["per_member"]
    if ctx["total_limit"] is not None:
        total = min(total, ctx["total_limit"])
    total = min(total, len(roll))
    if total and not party_ids:
        raise ScenarioError("phase 'guarantees' needs at least one party")
    rng = ctx.rng
    electors = rng.sample(range(len(roll)), total)
    quotas = _party_quotas(ctx, party_ids, total)
    party_of = [pid for pid, quota in zip(party_ids, quotas, strict=True) for _ in range(quota)]
    rng.shuffle(party_of)
    per_member = max(ctx["per_member"], 1)
    # Pledge k is member k // per_member's, for elector electors[k] and party party_of[k]; the
    # rows go out in elector order, which the unique (election, elector) index takes faster.
    order = sorted(range(total), key=electors.__getitem__)
    fixed: dict[str, Any] = {
        "election_id": election_id,
        "member_id": BatchColumn(
            lambda start, stop: [member_ids[k // per_member] for k in order[start:stop]]
        ),
        "elector_id": BatchColumn(_picked(roll.ids, list(map(electors.__getitem__, order)))),
        "party_id": BatchColumn(_picked(party_of, order)),
    }
    distribution = ctx["group_distribution"]
    if distribution != "random":  # exact quotas; "random" is the factory's own declaration
        shares = [1.0, 1.0, 1.0] if distribution == "even" else list(GROUP_WEIGHTS.values())
        quotas = apportion(shares, total)
        groups = [g for g, quota in zip(models.GUARANTEE_GROUPS, quotas, strict=True) for _ in range(quota)]
        rng.shuffle(groups)
        fixed["group"] = BatchColumn(_picked(groups, order))
    batches = 0
    made = factory_batches(ctx, factories.GuaranteeFactory, total, fixed=fixed, batch_size=ctx["batch_size"])
    for batch in made:
        yield batch
        batches += 1
        ctx.progress(total=min(batches * ctx["batch_size"], total), batches=batches)
    ctx.progress(total=total, batches=batches)


# --- attendance ---------------------------------------------------------------------------------


@phase(
    "attendance",
    tables=("attendances",),
    settings={
        "rate": fraction(0.75, "share of electors who vote (0..1)"),
        "batch_size": integer(50, "rows per insert batch", minimum=1),
    },
    requires=("election", "electors"),
    description="electors who voted, at their own committee, during polling hours",
)
def attendance_phase(ctx: PhaseContext) -> Iterator[Batch]:
    election_id = _election_id(ctx)
    roll: ElectorRoll = ctx.need("electors", "electors")
    total = round(ctx["rate"] * len(roll))
    rng = ctx.rng
    chosen = rng.sample(range(len(roll)), total)
    day: dt.date = ctx.shared.get("election_date") or ctx.clock.date()
    opening = dt.datetime.combine(day, models.POLLS_OPEN)
    closing = dt.datetime.combine(day, models.POLLS_CLOSE)
    times = spread_times(rng, total, opening, closing, HOURLY_TURNOUT)
    # Written in elector order (the unique index takes sorted keys far faster), each elector
    # keeping the random time it was paired with.
    order = sorted(range(total), key=chosen.__getitem__)
    electors = list(map(chosen.__getitem__, order))
    fixed = {
        "election_id": election_id,
        "elector_id": BatchColumn(_picked(roll.ids, electors)),
        "committee_id": BatchColumn(_picked(roll.committees, electors)),
        "attended_at": BatchColumn(_picked(times, order)),
    }
    batch_size = ctx["batch_size"]
    batches = 0
    for batch in factory_batches(ctx, factories.AttendanceFactory, total, fixed=fixed, batch_size=batch_size):
        yield batch
        batches += 1
        ctx.progress(total=min(batches * batch_size, total), batches=batches)
    ctx.progress(total=total, batches=batches)


ELECTION_PHASES = (
    election_phase,
    parties_phase,
    committees_phase,
    electors_phase,
    members_phase,
    guarantees_phase,
    attendance_phase,
)
