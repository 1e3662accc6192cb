"""Great Expectations 1.x suites (``expectations/``) and the validation report; used by the ingest stage's
check step and by the warehouse build.

- :mod:`pipeline.validate.suites` reads the suite files and runs them in an ephemeral GX context;
- :mod:`pipeline.validate.marts` checks the built warehouse (Biểu 06 identities, the legal-limit judgement);
- :mod:`pipeline.validate.report` renders the offline validation report.

The row checks of exports are :mod:`pipeline.ingest.check`. Great Expectations is imported only when a check
runs (it takes seconds to import).
"""
