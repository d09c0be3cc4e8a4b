"""Writes a benchmark's JSON report with the machine and versions it was measured on."""

import json
import os
import platform


def write_report(path, report):
    """`report` plus `machine`, `cpu_count` and `tensorflow`, written to `path` as JSON."""
    import tensorflow as tf

    report = {**report, "machine": platform.platform(), "cpu_count": os.cpu_count(),
              "tensorflow": tf.__version__}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    print(f"\nwrote {path}")
