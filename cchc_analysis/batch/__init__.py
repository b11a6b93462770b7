"""batch: render every unit's report for a period, locally or on a Dask cluster.

In: a prepared data folder (dossiers, cube, survey), a period, the units asked for (all with
data by default) and run options (workers, language, tier, notebook parameters).
Out: in the output folder, one HTML report per district and the province overview, the index
page, ``manifest.json`` (status, timings, input hash and error of every report), the partial
notebook of each failed report and a log per run. ``scheduled`` wraps this in the monthly job
that first ingests the inbox.

Never: compute a number. Every figure comes from the report notebooks (which call
``reports``/``counting``); this stage only plans, executes, renders and writes files, so a
report looks the same whichever executor made it.
"""
