"""Line-by-line reading of TSV and JSON Lines files, keeping line numbers for errors."""

import csv
import json


def iter_record_lines(path):
    """Yields `(line_number, row)` for each non-blank data line of a `.tsv` file (a header
    row names the columns) or a JSON Lines file: `row` is a dict, or the `ValueError` that
    says what is wrong with the line, so callers decide whether to stop or skip."""
    with open(path, "rb") as f:
        lines = list(enumerate(f, start=1))
    decoded = []
    for number, raw in lines:
        try:
            decoded.append((number, raw.decode("utf-8")))
        except UnicodeDecodeError as e:
            decoded.append((number, ValueError(f"line is not valid UTF-8 ({e.reason} at byte "
                                               f"{e.start})")))
    if path.endswith(".tsv"):
        if not decoded or isinstance(decoded[0][1], Exception):
            raise ValueError(f"{path}:1: a TSV file needs a UTF-8 header row.")
        header = decoded[0][1].rstrip("\r\n").split("\t")
        for number, line in decoded[1:]:
            if isinstance(line, Exception) or not line.strip():
                if isinstance(line, Exception):
                    yield number, line
                continue
            cells = next(csv.reader([line.rstrip("\r\n")], delimiter="\t",
                                    quoting=csv.QUOTE_NONE))
            if len(cells) != len(header):
                yield number, ValueError(f"{len(cells)} columns, the header has {len(header)}")
            else:
                yield number, dict(zip(header, cells))
        return
    for number, line in decoded:
        if isinstance(line, Exception):
            yield number, line
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            yield number, ValueError(f"malformed JSON ({e.msg} at column {e.colno})")
            continue
        yield number, value if isinstance(value, dict) else ValueError(
            f"expected a JSON object, got {type(value).__name__}")
