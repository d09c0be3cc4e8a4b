"""The ablation's table: valid-split scores and wall time per stage, from what
`tasks/pretraining/ablation.sh` left in its folder.

    python tasks/pretraining/ablation_table.py models/ablation

Prints a Markdown table and writes it to <folder>/ablation.md, the numbers to ablation.json.
"""

import argparse
import json
import os
import re


def read_json(path):
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def last_pretraining_losses(log_path):
    """The last epoch line's losses of a `unilmv2 pretrain` log, e.g. {"ae_loss": 2.1}."""
    if not os.path.isfile(log_path):
        return {}
    with open(log_path, encoding="utf-8", errors="replace") as f:
        lines = [line for line in f if " - loss: " in line]
    if not lines:
        return {}
    return {name: float(value) for name, value in
            re.findall(r"\b((?:ae|par)_loss): ([0-9.]+)", lines[-1])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    folder = parser.parse_args().folder
    times = {}
    if os.path.isfile(os.path.join(folder, "times.tsv")):
        with open(os.path.join(folder, "times.tsv"), encoding="utf-8") as f:
            times = {name: int(seconds) for name, seconds in (line.split() for line in f)}
    rows = []
    for start in ("none", "pmlm", "mlm", "par"):
        rouge = read_json(os.path.join(folder, f"summarization_{start}",
                                       "valid.beam4.txt.metrics.json"))
        classes = read_json(os.path.join(folder, f"classification_{start}",
                                         "valid_metrics.json"))
        if rouge is None and classes is None:
            continue
        rows.append({"start": start,
                     "pretrain_s": times.get(f"pretrain_{start}"),
                     "pretrain_losses": last_pretraining_losses(
                         os.path.join(folder, f"pretrain_{start}.log")),
                     "rouge": rouge, "summarization_s": times.get(f"summarization_{start}"),
                     "classification": classes,
                     "classification_s": times.get(f"classification_{start}")})

    def number(value, digits=2):
        return "–" if value is None else f"{value:.{digits}f}"

    def minutes(seconds):
        return "–" if seconds is None else f"{seconds / 60:.1f}"

    lines = ["| continued pretraining | its final AE / PAR loss | ROUGE-1 / 2 / L | accuracy | "
             "macro F1 | minutes: pretrain / summ. / class. |",
             "|---|---|---|---:|---:|---|"]
    for row in rows:
        losses = row["pretrain_losses"]
        rouge = row["rouge"] or {}
        classes = row["classification"] or {}
        lines.append(
            f"| {row['start']} | {number(losses.get('ae_loss'))} / "
            f"{number(losses.get('par_loss'))} | {number(rouge.get('rouge1'))} / "
            f"{number(rouge.get('rouge2'))} / {number(rouge.get('rougeL'))} | "
            f"{number(classes.get('accuracy'), 3)} | {number(classes.get('macro_f1'), 3)} | "
            f"{minutes(row['pretrain_s'])} / {minutes(row['summarization_s'])} / "
            f"{minutes(row['classification_s'])} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(folder, "ablation.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    with open(os.path.join(folder, "ablation.json"), "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
