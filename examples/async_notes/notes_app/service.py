"""The notes service: what a web handler would call, over one ``AsyncSession``."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Note, Notebook


class DuplicateTitle(Exception):
    """A notebook already has a note with this title."""


class NoteService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_note(self, notebook_id: int, title: str, body: str, now: dt.datetime) -> Note:
        """Add a note and commit; a title the notebook already has is refused (and rolled back)."""
        note = Note(notebook_id=notebook_id, title=title, body=body, created_at=now)
        self.session.add(note)
        try:
            await self.session.commit()
        except IntegrityError:
            await self.session.rollback()
            raise DuplicateTitle(title) from None
        return note

    async def archive_notebook(self, notebook_id: int) -> int:
        """Archive every note of a notebook; how many changed."""
        result = await self.session.execute(
            sa.update(Note).where(Note.notebook_id == notebook_id, ~Note.archived).values(archived=True)
        )
        await self.session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def active_notes(self, owner_id: int) -> list[Note]:
        """The member's notes that are not archived, newest first."""
        query = (
            sa.select(Note)
            .join(Notebook)
            .where(Notebook.owner_id == owner_id, ~Note.archived)
            .order_by(Note.created_at.desc(), Note.id)
        )
        return list((await self.session.scalars(query)).all())

    async def count(self, model: type) -> int:
        return int(await self.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)
