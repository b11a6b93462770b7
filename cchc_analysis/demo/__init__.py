"""demo: a calibrated synthetic province, and ``cchc demo`` that builds it end to end.

In: a seed and, optionally, the old districts to generate (all 27 pre-2025 districts of Hải
Phòng and Hải Dương by default, with the new communes over them after 1 July 2025).
Out: a data folder like the one ingest writes (dossiers partitioned by area and era,
``survey.parquet``, ``dataset.json``) that reproduces the published Kiến Thụy 2023-Q3, Xã Đường
An 2025 and Hải Dương 2023 figures exactly; ``build`` then prepares its cube and renders its
reports.

Never: read or imitate a real export's rows (no personal data goes in or comes out), or draw
anything from a random stream it does not own: the same seed gives the same bytes, and a
subset of districts gives exactly those districts' rows (and their new communes') of the full
run.
"""
