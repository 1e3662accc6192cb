"""``python -m pipeline`` runs the ``tthc`` command line."""

from pipeline.cli import main

raise SystemExit(main())
