"""Benchmarks of pmo-sheets, one module each; ``python -m benchmarks`` lists and runs them.

A module here is a benchmark when it can run as ``python -m benchmarks.NAME``. It may set
``QUICK = True`` (a few seconds to a minute) so that ``python -m benchmarks`` without arguments runs
it; the others run when named. Each prints its own table with its targets and PASS/FAIL.
"""
