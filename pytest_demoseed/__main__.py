"""``python -m pytest_demoseed``: the ``demoseed`` command."""

from .cli import main

main()
