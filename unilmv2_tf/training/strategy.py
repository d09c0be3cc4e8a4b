"""Picking a `tf.distribute` strategy by name (one flag for every command)."""

import json
import os

import tensorflow as tf

STRATEGIES = ("one_device", "mirrored", "multi_worker_mirrored", "tpu")


def create_strategy(name, num_gpus=0, tpu=None):
    """The strategy `name`:

    - `one_device`: the first GPU, else the CPU;
    - `mirrored`: all local GPUs (or the first `num_gpus`), the CPU when there are none;
    - `multi_worker_mirrored`: the cluster in `TF_CONFIG` (every worker runs the same command);
    - `tpu`: the TPU at `tpu` (a name or `grpc://` address; "" = the local / Colab TPU).
    """
    if name not in STRATEGIES:
        raise ValueError(f"distribution strategy must be one of {STRATEGIES}, got {name!r}.")
    if name == "multi_worker_mirrored":  # before anything initialises the TF runtime
        if "TF_CONFIG" not in os.environ:
            raise ValueError("multi_worker_mirrored needs TF_CONFIG (the cluster and this "
                             "worker's task); see the README's multi-worker section.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        if num_gpus > len(gpus):
            raise ValueError(f"--num_gpus={num_gpus} but only {len(gpus)} GPUs are visible.")
        devices = [g.name for g in gpus[:num_gpus or len(gpus)]] or None
        return tf.distribute.MirroredStrategy(devices)
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def worker_index():
    """`(index, is_chief, num_workers)` of this process in the `TF_CONFIG` cluster (`(0, True,
    1)` without one). The chief is the `chief` task, else worker 0; indices number the chief
    first, so they can pick each worker's input shard."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    cluster, task = config.get("cluster", {}), config.get("task", {})
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    has_chief = bool(cluster.get("chief"))
    count = max(len(cluster.get("worker", [])) + len(cluster.get("chief", [])), 1)
    if kind == "chief":
        return 0, True, count
    return index + int(has_chief), index == 0 and not has_chief, count
