"""`TaskModel`: what every task model over a `UniLMv2Backbone` shares."""

import keras
import tensorflow as tf

from unilmv2_tf.layers import MaskedLMHead


class TaskModel(keras.Model):
    """Base of the task models: holds `backbone`, serializes it, builds the tied LM head,
    scales replica losses.

    Subclasses pass their own constructor arguments through `get_config`; `from_config`
    rebuilds the backbone first. Not used directly.
    """

    def __init__(self, backbone, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone

    def tied_lm_head(self):
        """A built `MaskedLMHead` tied to the backbone's token embedding."""
        config = self.backbone.config
        head = MaskedLMHead(self.backbone.token_embedding,
                            layer_norm_epsilon=config.layer_norm_epsilon,
                            initializer_range=config.initializer_range,
                            dtype=self.backbone.dtype_policy, name="lm_head")
        head.build((None, None, config.hidden_size))
        return head

    @staticmethod
    def replica_loss(loss):
        """The per-replica share of a global-batch mean loss: Keras sums replica gradients
        and un-scales the reported loss by the replica count."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / replicas if replicas > 1 else loss

    def get_config(self):
        return {**super().get_config(), "backbone": keras.layers.serialize(self.backbone)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)
