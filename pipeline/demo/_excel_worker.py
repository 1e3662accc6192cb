"""Worker process of the demo generator: writes the Excel reports of a pickled task list.

Started as ``python -m pipeline.demo._excel_worker TASKS RESULTS`` (a fresh interpreter, so the caller's
main script is never re-imported); prints one line per file written and pickles the results.
"""

from __future__ import annotations

import os
import pickle
import sys

from pipeline.demo.writers import write_excel_report


def main(tasks_path: str, results_path: str) -> None:
    """Write every task's report, then the list of results (atomically)."""
    with open(tasks_path, "rb") as handle:
        tasks = pickle.load(handle)
    results = []
    for task in tasks:
        results.append(write_excel_report(*task))
        print(task[1], flush=True)
    temporary = results_path + ".tmp"
    with open(temporary, "wb") as handle:
        pickle.dump(results, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, results_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
