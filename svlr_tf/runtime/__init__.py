"""The runtime every layer stands on: atomic files, one-line errors, work directories,
distribution strategies, process start-up, the command-line runner, provenance and
resource reports.

Modules: ``files``, ``errors``, ``workdir``, ``distribute``, ``startup``,
``entry_points``, ``provenance``, ``resources``. Importing the package imports none of them.
"""
