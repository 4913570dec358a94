"""The machinery of :class:`ductwork.runner.DaskRunner`; importing it imports Dask.

* :mod:`.cluster`: where a run gets its client, and what it closes afterwards;
* :mod:`.executor`: what travels, then the run loop's executor: nodes as tasks, data as futures;
* :mod:`.worker`: what runs on the workers.
"""
