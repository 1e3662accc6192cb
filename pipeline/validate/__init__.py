"""Validation of exports and marts with Great Expectations 1.x (suites in ``expectations/``).

- :mod:`pipeline.validate.suites` reads the suite files and runs them in an ephemeral GX context;
- :mod:`pipeline.validate.rows` checks one export's parsed rows (quarantine, findings, file rejection);
- :mod:`pipeline.validate.marts` checks the Biểu 06 identities of ``mart.kpi_period``;
- :mod:`pipeline.validate.report` renders the offline validation report;
- :mod:`pipeline.validate.run` is ``tthc validate``.

Great Expectations is imported only when a check runs (it takes seconds to import).
"""
