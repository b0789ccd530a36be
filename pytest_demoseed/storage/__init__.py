"""Where data lives: engines, schema checks, snapshot keys, the per-worker provider, the backends.

Decides whether a spec is built, cloned from a snapshot or reused, and names every database.
May import ``build`` and everything below it; never ``plugin``, ``report`` or ``election``.
The schema check a build runs lives in ``build``; ``schema`` here only renders DDL for snapshot keys.
"""
