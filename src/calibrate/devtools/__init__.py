"""Development helpers: synthetic data and a throwaway database, for tests, benchmarks
and the demo — not part of the analysis API.

* :mod:`calibrate.devtools.simulate` — a seeded simulator of kalibreersessies with planted
  effects (the demo workspace, the recovery tests, the benchmarks);
* :mod:`calibrate.devtools.pgserver` — a throwaway PostgreSQL server on loopback.
"""
