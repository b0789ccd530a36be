"""Declaring and resolving scenarios: Scenario, Phase and Batch, the phase context, the spec, the registry.

What a user writes (``@phase``, ``Scenario``) and what it resolves to before anything is built
(``ScenarioSpec``). May import ``generate`` and ``errors`` only.
"""
