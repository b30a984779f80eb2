"""The DAG files ``pinpipe dag export`` writes, kept here as real, linted Python.

Each file is a complete Airflow DAG file whose settings sit between the markers
``# pinpipe:config-begin`` and ``# pinpipe:config-end``; the export replaces that block with the
user's values and copies the rest as it is. Airflow never imports this package: the files are
read as text (see :mod:`pinpipe.orchestrate.export`).
"""
