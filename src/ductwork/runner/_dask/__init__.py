"""The machinery of :class:`ductwork.runner.DaskRunner`; importing it imports Dask.

* :mod:`.cluster`: where a run gets its client, and what it closes afterwards;
* :mod:`.plan`: on the client, before submitting: what travels as futures, what is shipped;
* :mod:`.executor`: the run loop's executor: nodes as tasks, data as futures;
* :mod:`.submissions`: the graph handed to Dask, and the futures the client holds;
* :mod:`.outcomes`: what the client learns of each node (worker events, errors);
* :mod:`.worker`: what runs on the workers.
"""
