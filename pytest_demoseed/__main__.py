"""``python -m pytest_demoseed``: the ``demoseed`` command, with its exit code."""

from pytest_demoseed.cli import main

raise SystemExit(main())
