"""Reading classification data: GLUE-style TSV or JSON Lines, with file:line errors."""

import os

from unilmv2_tf.data.record_lines import iter_record_lines


def read_classification_file(path, text_key, label_key, text_pair_key=None,
                             skip_malformed=False, max_records=None):
    """Returns `(records, skipped)`: `records` are dicts with `text`, `label` (str) and
    `text_pair` (when `text_pair_key` is set); `skipped` counts rows dropped by
    `skip_malformed`. `.tsv` files need a header row naming the columns (GLUE's layout;
    `label_key=""` reads unlabeled test files); anything else is read as JSON Lines.

    A malformed row (bad JSON, missing column or field, empty text, invalid UTF-8) raises
    `ValueError("path:line: ...")` unless `skip_malformed` is set.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"File not found: {path}")
    fields = {"text": text_key, "label": label_key, "text_pair": text_pair_key}
    fields = {name: key for name, key in fields.items() if key}
    records, skipped = [], 0
    for line_number, row in iter_record_lines(path):
        try:
            if isinstance(row, Exception):
                raise row
            record = {}
            for name, key in fields.items():
                value = row.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool) \
                        and name == "label":
                    value = str(value)
                if not isinstance(value, str):
                    raise ValueError(f"missing field {key!r}" if value is None else
                                     f"field {key!r} must be a string or number")
                if not value.strip():
                    raise ValueError(f"field {key!r} is empty")
                record[name] = value.strip() if name == "label" else value
            records.append(record)
        except ValueError as e:
            if not skip_malformed:
                raise ValueError(f"{path}:{line_number}: {e}.") from None
            skipped += 1
        if max_records is not None and len(records) >= max_records:
            break
    if not records:
        raise ValueError(f"{path} holds no usable rows ({skipped} malformed).")
    return records, skipped
