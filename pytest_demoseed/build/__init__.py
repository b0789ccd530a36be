"""The one builder: runs a spec's phases in one transaction, writes batches per dialect, fingerprints.

Also the schema check before a build writes, the job status a build reports (progress events,
``LatestStatus``) and the ``Dataset`` it returns. May import ``scenario``, ``generate`` and
``errors``; never ``factories`` (phases use factory_boy, the builder does not), ``storage`` (the
snapshot flow calls the builder, not the other way) or anything above.
"""
