"""Prints the per-step losses of tiny PMLM training on one device (argument 0) or under
MirroredStrategy over N logical CPU devices, on the same global batches. One configuration per
process: TF's collectives do not mix strategies of different sizes in one process. Run by
tests/test_distribution.py: `python mirrored_losses.py CORPUS N [sgd|adamw|fused_adamw]`."""

import json
import sys

import numpy as np

import tensorflow as tf

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 4)

import keras  # noqa: E402

from unilmv2_tf import UniLMv2Backbone, UniLMv2Config  # noqa: E402
from unilmv2_tf.data import make_pretraining_dataset  # noqa: E402
from unilmv2_tf.models import PMLMPretrainer  # noqa: E402
from unilmv2_tf.preprocessing import PMLMMasker, WordPieceTokenizer  # noqa: E402
from unilmv2_tf.training import create_optimizer  # noqa: E402

corpus, devices = sys.argv[1], int(sys.argv[2])
optimizer_name = sys.argv[3] if len(sys.argv) > 3 else "sgd"
tokenizer = WordPieceTokenizer()
masker = PMLMMasker.for_tokenizer(tokenizer, PMLMMasker.default_max_predictions(32))
data = make_pretraining_dataset([corpus], tokenizer, masker, 32, 8, seed=0).take(4).cache()
config = UniLMv2Config.from_preset("tiny", hidden_dropout=0.0, attention_dropout=0.0)
strategy = (tf.distribute.get_strategy() if devices == 0 else
            tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(devices)]))
keras.utils.set_random_seed(0)
with strategy.scope():
    model = PMLMPretrainer(UniLMv2Backbone(config))
    # Plain SGD checks the gradient: Adam's normalised update would hide a wrongly scaled one.
    model.compile(optimizer=keras.optimizers.SGD(1.0) if optimizer_name == "sgd" else
                  create_optimizer(1e-3, 10, 0, fused=optimizer_name == "fused_adamw"))
losses = [float(model.train_on_batch(batch, return_dict=True)["loss"]) for batch in data]
kernel = model.backbone.weights[5]
copies = strategy.experimental_local_results(kernel.value)
print("RESULT " + json.dumps({
    "losses": losses, "replicas": strategy.num_replicas_in_sync,
    "kernel": kernel.numpy().ravel()[:50].tolist(),
    "copies_spread": max(float(np.abs(c.numpy() - copies[0].numpy()).max()) for c in copies)}))
