"""The app's thread-local session registry; the app binds it to its engine at start-up."""

from __future__ import annotations

from sqlalchemy.orm import scoped_session, sessionmaker

Session = scoped_session(sessionmaker())
