"""``python -m pipeline`` runs the ``tthc`` command line."""

from pipeline.cli import entry

entry()
