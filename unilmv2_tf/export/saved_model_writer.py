"""Writing SavedModels into TF Serving's `<base>/<version>/` layout, atomically."""

import os
import re
import shutil
import tempfile


def version_numbers(export_base):
    """The integer-named version folders under the folder `export_base`, sorted (OSError if
    it cannot be listed); other names, such as the temporary folders of a write in
    progress, are not versions."""
    return sorted(int(name) for name in os.listdir(export_base)
                  if re.fullmatch(r"\d+", name) and os.path.isdir(os.path.join(export_base, name)))


def next_version(export_base):
    """1 + the largest integer version folder under `export_base` (1 when there is none)."""
    if not os.path.isdir(export_base):
        return 1
    return max(version_numbers(export_base), default=0) + 1


def write_versioned(write_fn, export_base, version=None):
    """Calls `write_fn(tmp_dir)`, then renames `tmp_dir` to `export_base/<version>`.

    A version that exists is never overwritten; a failed write leaves nothing behind. Returns
    the final path.
    """
    version = next_version(export_base) if version is None else int(version)
    if version <= 0:
        raise ValueError(f"SavedModel versions are positive integers, got {version}.")
    final = os.path.join(export_base, str(version))
    if os.path.exists(final):
        raise FileExistsError(f"{final} already exists; versions are never overwritten.")
    os.makedirs(export_base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_base)
    try:
        write_fn(tmp)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
