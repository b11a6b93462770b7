"""demo: a calibrated synthetic province, and ``cchc demo`` that builds it end to end.

In: a seed and, optionally, the districts to generate (all 15 pre-2025 districts of Hải
Phòng by default).
Out: a data folder like the one ingest writes (dossiers partitioned by district,
``survey.parquet``, ``dataset.json``) that reproduces the published Kiến Thụy 2023-Q3 figures
exactly; ``build`` then prepares its cube and renders its reports.

Never: read or imitate a real export's rows (no personal data goes in or comes out), or draw
anything from a random stream it does not own: the same seed gives the same bytes, and a
subset of districts gives exactly those districts' rows of the full run.
"""
