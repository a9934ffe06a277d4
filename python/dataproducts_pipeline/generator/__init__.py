"""Internals of the synthetic data generator; the entry point is :mod:`dataproducts_pipeline.generate`.

- ``config``: sizes, planted effects (``PLANTED``), bad-row kinds and their staging reasons;
- ``vocab``: word lists and reference distributions;
- ``world``: the numpy simulation (catalog, learners, funnel, exposures, coaching, goals);
- ``writer``: DuckDB writes, the SQL expansion of events, bad rows;
- ``postgres``: COPY into PostgreSQL.
"""
