"""Seeded helpers for phase authors: stable seeds and streams, distributions, sample pools.

Everything random in a build comes from here, derived from the root seed (never ``hash()`` or
the wall clock). May import ``errors`` only.
"""
