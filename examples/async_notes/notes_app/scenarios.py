"""The ``notes`` scenario: one workspace, its members, their notebooks and notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pytest_demoseed import Batch, PhaseContext, Scenario, phase, spread_times
from pytest_demoseed.settings_kinds import fraction, integer

from .models import Base, Workspace

CLOCK = dt.datetime(2026, 3, 1, 9, 0)


@phase(
    "people", tables=("workspaces", "members"), settings={"members": integer(8, "members of the workspace")}
)
def people_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """the workspace and its members, with unique emails"""
    (workspace_id,) = ctx.allocate("workspaces", 1)
    yield Batch("workspaces", ("id", "name"), [(workspace_id, "Demo workspace")])
    ids = ctx.allocate("members", ctx["members"])
    yield Batch(
        "members",
        ("id", "workspace_id", "email"),
        [(mid, workspace_id, f"member.{mid}@notes.example") for mid in ids],
    )
    ctx.share("workspace_id", workspace_id)
    ctx.share("member_ids", list(ids))


@phase(
    "notes",
    tables=("notebooks", "notes"),
    settings={
        "per_member": integer(2, "notebooks of each member", minimum=1),
        "per_notebook": integer(5, "notes in each notebook", minimum=1),
        "archived": fraction(0.2, "share of notes already archived"),
    },
    requires=("people",),
)
def notes_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """notebooks per member and notes in each, an exact share of them archived"""
    members: list[int] = ctx.need("member_ids", "people")
    notebooks = [(owner, k) for owner in members for k in range(ctx["per_member"])]
    notebook_ids = ctx.allocate("notebooks", len(notebooks))
    yield Batch(
        "notebooks",
        ("id", "owner_id", "title"),
        [(nid, owner, f"Notebook {k + 1}") for nid, (owner, k) in zip(notebook_ids, notebooks, strict=True)],
    )
    total = len(notebook_ids) * ctx["per_notebook"]
    archived = set(ctx.rng.sample(range(total), round(total * ctx["archived"])))
    times = spread_times(ctx.rng, total, CLOCK - dt.timedelta(days=30), CLOCK)
    note_ids = ctx.allocate("notes", total)
    rows = []
    for i, note_id in enumerate(note_ids):
        notebook_id = notebook_ids[i // ctx["per_notebook"]]
        title = f"{ctx.faker.word().capitalize()} {i % ctx['per_notebook'] + 1}"
        rows.append((note_id, notebook_id, title, ctx.faker.sentence(), i in archived, times[i]))
    yield Batch("notes", ("id", "notebook_id", "title", "body", "archived", "created_at"), rows)


NOTES = Scenario(
    name="notes",
    description="a workspace with 8 members, 2 notebooks each, 5 notes a notebook (20% archived)",
    phases=(people_phase, notes_phase),
    metadata=Base.metadata,
    clock=CLOCK,
    root_model=Workspace,
    root_key="workspace_id",
)
