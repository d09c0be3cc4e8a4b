"""Reading JSON Lines task files with errors that name the file and line."""

import os

from unilmv2_tf.data.record_lines import iter_record_lines


def read_jsonl_records(path, fields, max_records=None):
    """Returns the records of a `.jsonl` file as a list of `{field: str}` dicts.

    Every non-blank line must be a JSON object whose `fields` are non-empty strings (after
    stripping). Anything else raises `ValueError("path:line: ...")`; blank lines are skipped.
    `max_records` stops after that many records.

    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".jsonl")
    >>> _ = open(path, "w").write('{"source": "a b", "target": "c"}\\n')
    >>> read_jsonl_records(path, ["source", "target"])
    [{'source': 'a b', 'target': 'c'}]
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"File not found: {path}")
    records = []
    for line_number, row in iter_record_lines(path):
        where = f"{path}:{line_number}"
        if isinstance(row, ValueError):
            raise ValueError(f"{where}: {row}.")
        record = {}
        for field in fields:
            if field not in row:
                raise ValueError(f"{where}: missing field {field!r}.")
            if not isinstance(row[field], str):
                raise ValueError(f"{where}: field {field!r} must be a string, got "
                                 f"{type(row[field]).__name__}.")
            if not row[field].strip():
                raise ValueError(f"{where}: field {field!r} is empty.")
            record[field] = row[field]
        records.append(record)
        if max_records is not None and len(records) >= max_records:
            break
    if not records:
        raise ValueError(f"{path} holds no records.")
    return records
