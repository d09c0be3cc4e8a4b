"""Prints the per-step losses of tiny PMLM training on one device (argument 0) or under
MirroredStrategy over N logical CPU devices, on the same global batches. One configuration per
process: TF's collectives do not mix strategies of different sizes in one process. Run by
tests/test_distribution.py: `python mirrored_losses.py CORPUS N`."""

import json
import sys

import tensorflow as tf

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 4)

import keras  # noqa: E402

from unilmv2_tf import UniLMv2Backbone, UniLMv2Config  # noqa: E402
from unilmv2_tf.data import make_pretraining_dataset  # noqa: E402
from unilmv2_tf.models import PMLMPretrainer  # noqa: E402
from unilmv2_tf.preprocessing import PMLMMasker, WordPieceTokenizer  # noqa: E402

corpus, devices = sys.argv[1], int(sys.argv[2])
tokenizer = WordPieceTokenizer()
masker = PMLMMasker.for_tokenizer(tokenizer, PMLMMasker.default_max_predictions(32))
data = make_pretraining_dataset([corpus], tokenizer, masker, 32, 8, seed=0).take(4).cache()
config = UniLMv2Config.from_preset("tiny", hidden_dropout=0.0, attention_dropout=0.0)
strategy = (tf.distribute.get_strategy() if devices == 0 else
            tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(devices)]))
keras.utils.set_random_seed(0)
with strategy.scope():
    model = PMLMPretrainer(UniLMv2Backbone(config))
    # Plain SGD: Adam's normalised update would hide a wrongly scaled gradient.
    model.compile(optimizer=keras.optimizers.SGD(1.0))
losses = [float(model.train_on_batch(batch, return_dict=True)["loss"]) for batch in data]
print("RESULT " + json.dumps({"losses": losses, "replicas": strategy.num_replicas_in_sync,
                              "kernel": model.backbone.weights[5].numpy().ravel()[:50].tolist()}))
