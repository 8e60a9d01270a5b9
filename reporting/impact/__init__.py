"""Impact reports: figures from approved returns, awards and bids, built into versions
(PDF, CSV and XLSX) by Celery workers, previewed and published by fund managers.

- ``selectors``: reads, scoped to what a person may see, and the source data of a build;
- ``analytics``: the figures, computed with pandas into a JSON snapshot;
- ``charts``: matplotlib SVG charts drawn from the snapshot;
- ``document``: the HTML of the report and its PDF (WeasyPrint);
- ``exports``: the same figures as CSV and XLSX;
- ``services``: every state change (request, build, publish, withdraw...), audited;
- ``build``: the build pipeline the Celery task runs, step by step;
- ``tasks``: the Celery tasks (a build, lost builds sent again, quarterly rebuilds);
- ``views`` and ``urls``: the public reports page and files, and the fund managers' pages.
"""
