"""The factory_boy adapter: factories compiled into column generators, Faker pools, binding to a session.

Keeps a project's factories the one declaration of what a row looks like, at batch speed. May
import ``scenario``, ``generate`` and ``errors``.
"""
