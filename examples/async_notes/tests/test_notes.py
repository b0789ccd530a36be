"""The notes service against the scenario, through the async fixtures: every test starts from
the data as built, whatever the tests before it committed."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from notes_app.models import Member, Note, Notebook, Workspace
from notes_app.service import DuplicateTitle

NOW = dt.datetime(2026, 3, 1, 10, 0)


async def assert_as_built(service, demo_dataset):
    for model in (Member, Notebook, Note):
        assert await service.count(model) == demo_dataset.counts[model.__tablename__]


@pytest.mark.asyncio
async def test_the_scenario_rules_hold(service, demo_dataset):
    await assert_as_built(service, demo_dataset)
    archived = await service.session.scalar(sa.select(sa.func.count()).where(Note.archived))
    assert archived == round(demo_dataset.counts["notes"] * 0.2)


@pytest.mark.asyncio
async def test_a_committed_note_is_gone_after_the_test(service, demo_dataset):
    await assert_as_built(service, demo_dataset)
    note = await service.add_note(1, "Shopping", "milk", NOW)
    assert note.id > demo_dataset.counts["notes"]  # sequences start past the scenario's rows
    assert await service.count(Note) == demo_dataset.counts["notes"] + 1


@pytest.mark.asyncio
async def test_a_duplicate_title_is_refused_and_the_session_goes_on(service, demo_dataset):
    await assert_as_built(service, demo_dataset)
    taken = await service.session.scalar(sa.select(Note.title).where(Note.notebook_id == 1).limit(1))
    with pytest.raises(DuplicateTitle):
        await service.add_note(1, taken, "again", NOW)
    await service.add_note(1, taken + " (2)", "fine", NOW)  # PostgreSQL: no aborted transaction left
    assert await service.count(Note) == demo_dataset.counts["notes"] + 1


@pytest.mark.asyncio
async def test_archiving_inside_a_savepoint(service, demo_dataset):
    await assert_as_built(service, demo_dataset)
    active = len(await service.active_notes(1))
    nested = await service.session.begin_nested()
    await service.session.execute(sa.update(Note).where(Note.notebook_id.in_([1, 2])).values(archived=True))
    assert await service.active_notes(1) == []
    await nested.rollback()
    assert len(await service.active_notes(1)) == active
    await service.archive_notebook(1)
    await service.archive_notebook(2)
    assert await service.active_notes(1) == []


@pytest.mark.asyncio
async def test_the_workspace_root_and_factories(demo_async_root, bind_factories, service, demo_dataset):
    await assert_as_built(service, demo_dataset)
    assert isinstance(demo_async_root, Workspace)
    members = await demo_async_root.awaitable_attrs.members
    assert len(members) == demo_dataset.counts["members"]
    factories = await bind_factories()
    notebook = factories.NotebookFactory(owner_id=members[0].id)  # added, not yet flushed
    await service.session.flush()
    notes = [factories.NoteFactory(notebook_id=notebook.id) for _ in range(2)]
    await service.session.commit()
    assert len({note.title for note in notes}) == 2
    assert await service.count(Notebook) == demo_dataset.counts["notebooks"] + 1


@pytest.mark.anyio
async def test_under_anyio(service, demo_dataset):
    await assert_as_built(service, demo_dataset)
    await service.archive_notebook(3)
