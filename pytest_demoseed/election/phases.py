"""The election phases: each draws whole columns from its seeded stream and yields batches.

Formats come from ``naming`` and word lists from Faker's locale data, the same the factories
use; keys come from the builder's allocator; later phases read earlier phases' results from
``ctx.shared`` (or, when the earlier phase is off, from rows already in the database).
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..context import PhaseContext
from ..distributions import apportion, spread_times
from ..pools import locale_pool
from ..scenario import Batch, ScenarioError, phase
from ..settings_kinds import boolean, choice, fraction, integer, optional_integer, text, weights
from . import models
from .naming import PARTY_ADJECTIVES, PARTY_NOUNS, committee_code, email_for, national_id

__all__ = ["ELECTION_PHASES", "ElectorRoll"]

ROW_BATCH = 10_000
GROUP_WEIGHTS = {"strong": 0.5, "medium": 0.3, "weak": 0.2}
#: Share of the day's votes in each polling hour, 08:00 to 20:00: a morning and an evening peak.
HOURLY_TURNOUT = (6, 9, 10, 9, 7, 6, 6, 7, 9, 11, 12, 8)


def _chunks(count: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, count, size):
        yield start, min(start + size, count)


def _election_id(ctx: PhaseContext) -> int:
    return int(ctx.need("election_id", "election"))


# --- election ----------------------------------------------------------------------------------


def _load_election(ctx: PhaseContext) -> None:
    row = ctx.conn.execute(
        sa.select(models.Election.id, models.Election.election_date).order_by(
            models.Election.id.desc()
        )
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
    (election_id,) = ctx.allocate("elections", 1)
    day = ctx.clock.date()
    ctx.share("election_id", election_id)
    ctx.share("election_date", day)
    ctx.progress(created=1)
    yield Batch("elections", ("id", "name", "election_date"), [(election_id, ctx["name"], day)])


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


def _person_names(ctx: PhaseContext, count: int) -> list[str]:
    first_f = locale_pool(ctx.faker, "first_names_female").draw(ctx.rng, count)
    first_m = locale_pool(ctx.faker, "first_names_male").draw(ctx.rng, count)
    last = locale_pool(ctx.faker, "last_names").draw(ctx.rng, count)
    coin = ctx.rng.getrandbits(count) if count else 0
    return [
        f"{first_f[i] if (coin >> i) & 1 else first_m[i]} {last[i]}" for i in range(count)
    ]


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
    count, per_party, independents = ctx["count"], ctx["candidates_per_party"], ctx["independent_candidates"]
    party_ids = ctx.allocate("parties", count)
    names = _party_names(ctx, count)
    colors = [f"#{value:06x}" for value in ctx.rng.sample(range(0x1000000), count)]
    yield Batch(
        "parties",
        ("id", "election_id", "name", "number", "color"),
        [(pid, election_id, names[i], i + 1, colors[i]) for i, pid in enumerate(party_ids)],
    )
    ctx.share("party_ids", list(party_ids))
    total = count * per_party + independents
    candidate_ids = ctx.allocate("candidates", total)
    people = _person_names(ctx, total)
    owners: list[int | None] = [pid for pid in party_ids for _ in range(per_party)]
    owners += [None] * independents
    yield Batch(
        "candidates",
        ("id", "election_id", "party_id", "name", "number"),
        [
            (cid, election_id, owners[i], people[i], i + 1)
            for i, cid in enumerate(candidate_ids)
        ],
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
    election_id = _election_id(ctx)
    count = ctx["count"]
    ids = ctx.allocate("committees", count)
    places = locale_pool(ctx.faker, "last_names").draw(ctx.rng, count)
    kinds = ctx.rng.choices(("School", "Hall", "Library", "Community Centre", "Gymnasium"), k=count)
    rows = [
        (cid, election_id, f"{places[i]} {kinds[i]} Polling Committee", committee_code(i + 1))
        for i, cid in enumerate(ids)
    ]
    for start, stop in _chunks(len(rows), ROW_BATCH):
        yield Batch("committees", ("id", "election_id", "name", "code"), rows[start:stop])
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


@phase(
    "electors",
    tables=("electors",),
    settings={"count": integer(2000, "electors on the roll, each assigned to a committee")},
    requires=("election", "committees"),
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
    female = locale_pool(ctx.faker, "first_names_female")
    male = locale_pool(ctx.faker, "first_names_male")
    last = locale_pool(ctx.faker, "last_names")
    day = ctx.clock.date().toordinal()
    youngest, oldest = 18 * 365 + 5, 90 * 365
    assigned = array("q")
    columns = ("id", "election_id", "committee_id", "full_name", "gender", "birth_date", "national_id")
    rng = ctx.rng
    for start, stop in _chunks(count, ROW_BATCH):
        size = stop - start
        coin = rng.getrandbits(size)
        first_f, first_m, last_n = female.draw(rng, size), male.draw(rng, size), last.draw(rng, size)
        committees = rng.choices(committee_ids, k=size)
        ages = [rng.randrange(youngest, oldest) for _ in range(size)]
        rows = []
        for i in range(size):
            is_f = (coin >> i) & 1
            eid = ids[start + i]
            rows.append(
                (
                    eid,
                    election_id,
                    committees[i],
                    f"{first_f[i] if is_f else first_m[i]} {last_n[i]}",
                    "F" if is_f else "M",
                    dt.date.fromordinal(day - ages[i]),
                    national_id(eid),
                )
            )
        assigned.extend(committees)
        yield Batch("electors", columns, rows)
        ctx.progress(created=stop)
    ctx.share("electors", ElectorRoll(ids, assigned))
    ctx.progress(created=count)


# --- members ------------------------------------------------------------------------------------


def _load_members(ctx: PhaseContext) -> None:
    election_id = ctx.shared.get("election_id")
    ids = ctx.conn.execute(
        sa.select(models.Member.id)
        .where(models.Member.election_id == election_id)
        .order_by(models.Member.id)
    ).scalars()
    ctx.share("member_ids", list(ids))


def _members_need(settings: Mapping[str, Any]) -> tuple[str, ...]:
    return ("election", "committees") if settings.get("assign_to_committees") else ("election",)


@phase(
    "members",
    tables=("members",),
    settings={
        "count": integer(15, "campaign members (users) to create"),
        "assign_to_committees": boolean(True, "give each member a committee (round robin)"),
    },
    requires=_members_need,
    load_existing=_load_members,
    description="campaign members with unique emails, optionally assigned to committees",
)
def members_phase(ctx: PhaseContext) -> Iterator[Batch]:
    election_id = _election_id(ctx)
    count = ctx["count"]
    committee_ids: list[int] = ctx.shared.get("committee_ids", []) if ctx["assign_to_committees"] else []
    if ctx["assign_to_committees"] and count and not committee_ids:
        raise ScenarioError("members.assign_to_committees needs at least one committee")
    ids = ctx.allocate("members", count)
    names = _person_names(ctx, count)
    rng = ctx.rng
    columns = ("id", "election_id", "committee_id", "name", "email", "phone")
    for start, stop in _chunks(count, ROW_BATCH):
        rows = []
        for i in range(start, stop):
            mid = ids[i]
            phone = f"+1-{rng.randrange(200, 1000)}-{rng.randrange(200, 1000)}-{rng.randrange(10000):04d}"
            committee = committee_ids[i % len(committee_ids)] if committee_ids else None
            rows.append((mid, election_id, committee, names[i], email_for(names[i], mid), phone))
        yield Batch("members", columns, rows)
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
                f"guarantees.party_weights has {len(wanted)} weights but there are "
                f"{len(party_ids)} parties"
            )
        shares = wanted
    return apportion(shares, total)


def _check_guarantees(all_settings: Mapping[str, Mapping[str, Any]]) -> None:
    mine, parties = all_settings["guarantees"], all_settings["parties"]
    wanted = mine["party_weights"]
    if mine["enabled"] and parties["enabled"] and wanted != "even" and len(wanted) != parties["count"]:
        raise ScenarioError(
            f"guarantees.party_weights has {len(wanted)} weights but parties.count is "
            f"{parties['count']}"
        )


@phase(
    "guarantees",
    tables=("guarantees",),
    settings={
        "per_member": integer(20, "guarantees each member records"),
        "total_limit": optional_integer(None, "cap on guarantees in all (none: no cap)"),
        "batch_size": integer(100, "rows per insert batch", minimum=1),
        "group_distribution": choice(
            "random", ("random", "even", "weighted"), "strong/medium/weak mix"
        ),
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
    party_of = [pid for pid, quota in zip(party_ids, _party_quotas(ctx, party_ids, total)) for _ in range(quota)]
    rng.shuffle(party_of)
    distribution = ctx["group_distribution"]
    if distribution == "random":
        groups = rng.choices(models.GUARANTEE_GROUPS, k=total)
    else:
        shares = [1.0, 1.0, 1.0] if distribution == "even" else list(GROUP_WEIGHTS.values())
        groups = [g for g, quota in zip(models.GUARANTEE_GROUPS, apportion(shares, total)) for _ in range(quota)]
        rng.shuffle(groups)
    ids = ctx.allocate("guarantees", total)
    per_member = max(ctx["per_member"], 1)
    columns = ("id", "election_id", "member_id", "elector_id", "party_id", "group")
    batches = 0
    for start, stop in _chunks(total, ctx["batch_size"]):
        yield Batch(
            "guarantees",
            columns,
            [
                (ids[i], election_id, member_ids[i // per_member], roll.ids[electors[i]], party_of[i], groups[i])
                for i in range(start, stop)
            ],
        )
        batches += 1
        ctx.progress(total=stop, batches=batches)
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
    ids = ctx.allocate("attendances", total)
    columns = ("id", "election_id", "elector_id", "committee_id", "attended_at")
    batch_size = ctx["batch_size"]
    batches = 0
    for start, stop in _chunks(total, batch_size):
        yield Batch(
            "attendances",
            columns,
            [
                (ids[i], election_id, roll.ids[chosen[i]], roll.committees[chosen[i]], times[i])
                for i in range(start, stop)
            ],
        )
        batches += 1
        ctx.progress(total=stop, batches=batches)
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
