"""``python -m pytest_demoseed``: the ``demoseed`` command, with its exit code."""

from .cli import main

raise SystemExit(main())
