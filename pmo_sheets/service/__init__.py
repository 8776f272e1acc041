"""``pmo serve``: the sync service a PMO coordinator leaves running, with its status page and JSON API.

The service is an edge around the library, not a second orchestrator: every sync is one call of
:func:`pmo_sheets.sync.run_sync`, under the same lock as ``pmo sync``; the page and the API read the
state store that the sync writes (:mod:`.status`), never the sources themselves.

- :mod:`.scheduler` decides when to sync: on a schedule, after a burst of saves (debounced), on a
  change that a poll of the sources' fingerprints finds (Google Drive's listing, network shares),
  and when someone presses **Sync now**. One sync at a time, in one worker thread.
- :mod:`.watch` turns file-system events in the Excel sources' folders into "something changed".
- :mod:`.status` is the read-only view of the state store that the page and the API show.
- :mod:`.auth` is the token rule and CSRF-safe forms; :mod:`.metrics` the Prometheus metrics;
  :mod:`.chart` the history chart (SVG drawn on the server); :mod:`.app` the Starlette routes;
  :mod:`.server` runs it all under uvicorn until SIGTERM or Ctrl-C.
"""
