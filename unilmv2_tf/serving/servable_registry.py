"""`ServableRegistry`: the loaded versions of every served model, kept in step with disk."""

import logging
import os
import threading

from unilmv2_tf.export.saved_model_writer import version_numbers
from unilmv2_tf.export.serving_error import ServingError
from unilmv2_tf.serving.servable import Servable

LOG = logging.getLogger("unilmv2_tf.serving")


def selected_versions(policy, available):
    """The versions a TF Serving version policy serves out of `available` (sorted ints)."""
    if policy[0] == "all":
        return set(available)
    if policy[0] == "specific":
        return set(policy[1]) & set(available)
    return set(sorted(available)[-policy[1]:])


class ServableRegistry:
    """Loads the version folders of each model's base path as TF Serving does: the versions
    the policy selects (default: the latest) are loaded, a new version dropped into the base
    path is loaded by the next `poll()` and then replaces the old one (never a gap), and a
    version that fails to load is reported in its status while the others keep serving.

    Args:
        models: `{name: base_path}` or `{name: (base_path, version_policy)}` (see
            `unilmv2_tf.export.model_config.version_policy`).
        loader: `(name, version, path) -> servable` (default `Servable`).

    Example:
    >>> registry = ServableRegistry({"encoder": "saved_models/encoder"})  # doctest: +SKIP
    >>> registry.poll(); registry.get("encoder").version                # doctest: +SKIP
    1
    """

    def __init__(self, models, loader=Servable):
        self._models = {}
        for name, value in models.items():
            base_path, policy = value if isinstance(value, tuple) else (value, ("latest", 1))
            if not os.path.isdir(base_path):
                raise FileNotFoundError(f"model {name!r}: base path {base_path} is not a "
                                        f"folder.")
            self._models[name] = (base_path, policy)
        self._loader = loader
        self._loaded = {name: {} for name in self._models}
        self._failed = {name: {} for name in self._models}
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()

    @property
    def model_names(self):
        return sorted(self._models)

    def poll(self):
        """Loads newly selected versions, then unloads the ones no longer selected."""
        with self._poll_lock:
            for name, (base_path, policy) in self._models.items():
                try:
                    available = version_numbers(base_path)
                except OSError as e:  # e.g. a vanished base path: keep what is loaded
                    LOG.warning("model %s: cannot list %s: %s", name, base_path, e)
                    continue
                wanted = selected_versions(policy, available)
                for version in sorted(wanted - set(self._loaded[name])
                                      - set(self._failed[name])):
                    self._load(name, version, os.path.join(base_path, str(version)))
                with self._lock:
                    for version in set(self._loaded[name]) - wanted:
                        del self._loaded[name][version]
                        LOG.info("model %s: unloaded version %d", name, version)

    def _load(self, name, version, path):
        try:
            servable = self._loader(name, version, path)
        except Exception as e:  # a broken version must not stop the others
            self._failed[name][version] = f"{type(e).__name__}: {e}"
            LOG.error("model %s: version %d failed to load: %s", name, version, e)
            return
        with self._lock:
            self._loaded[name][version] = servable
        LOG.info("model %s: serving version %d from %s", name, version, path)

    def get(self, name, version=None):
        """The servable of `name` at `version` (default: the newest loaded)."""
        with self._lock:
            if name not in self._loaded:
                raise ServingError("NOT_FOUND", f"Servable not found for request: model "
                                   f"{name!r} is not served (served: {self.model_names}).")
            versions = self._loaded[name]
            if version is None:
                if not versions:
                    raise ServingError("NOT_FOUND", f"model {name!r} has no loaded version "
                                       f"yet (no version folder under its base path).")
                return versions[max(versions)]
            if int(version) not in versions:
                raise ServingError("NOT_FOUND", f"Servable not found for request: model "
                                   f"{name!r} version {version} is not loaded (loaded: "
                                   f"{sorted(versions)}).")
            return versions[int(version)]

    def status(self, name, version=None):
        """`[(version, state, error message)]` as in `GetModelStatus`: AVAILABLE for loaded
        versions, END with the error for versions that failed to load."""
        with self._lock:
            if name not in self._loaded:
                raise ServingError("NOT_FOUND", f"Could not find any versions of model "
                                   f"{name!r} (served: {self.model_names}).")
            rows = [(v, "AVAILABLE", "") for v in self._loaded[name]]
            rows += [(v, "END", message) for v, message in self._failed[name].items()]
        if version is not None:
            rows = [row for row in rows if row[0] == int(version)]
            if not rows:
                raise ServingError("NOT_FOUND", f"Could not find version {version} of model "
                                   f"{name!r}.")
        return sorted(rows, reverse=True)
