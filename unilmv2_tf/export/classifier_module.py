"""`ClassifierServingModule`: a fine-tuned `Classifier` behind a text-in `classify` signature."""

import tensorflow as tf

from unilmv2_tf.export.text_inputs import checked_utf8
from unilmv2_tf.preprocessing import TextPairPacker


class ClassifierServingModule(tf.Module):
    """A `tf.Module` whose `classify` signature runs a `Classifier` on raw text.

    Inputs: `text` string `[batch]`, plus `text_pair` for pair tasks (`task["text_pair_key"]`
    set). Tokenization and pair packing (the task's truncation) run in the graph. Outputs for
    classification: `probabilities` float32 `[batch, classes]`, `label_id` int32 and `label`
    string `[batch]` (the task's label names); for regression: `score` float32 `[batch]`.

    Args:
        model: the `Classifier`.
        tokenizer: its `WordPieceTokenizer`.
        task: the settings of `unilmv2 finetune-classifier` (`sequence_length`,
            `truncation`, `text_pair_key`, `labels`; `labels` None for regression).

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> from unilmv2_tf.models import Classifier
    >>> from unilmv2_tf.preprocessing import WordPieceTokenizer
    >>> task = {"sequence_length": 16, "truncation": "longest_first", "text_pair_key": "",
    ...         "labels": ["neg", "pos"]}
    >>> module = ClassifierServingModule(Classifier(UniLMv2Backbone.from_size("tiny"), 2),
    ...                                  WordPieceTokenizer(), task)
    >>> module.classify(tf.constant(["Fine."]))["probabilities"].shape
    TensorShape([1, 2])
    """

    def __init__(self, model, tokenizer, task, name=None):
        super().__init__(name=name)
        labels = task.get("labels")
        if labels is not None and len(labels) != model.num_classes:
            raise ValueError(f"The task settings name {len(labels)} labels but the model has "
                             f"{model.num_classes} outputs.")
        self.classifier = model
        self.tokenizer = tokenizer
        self._packer = TextPairPacker.for_tokenizer(tokenizer, task["sequence_length"],
                                                    truncation=task["truncation"])
        self._labels = None if labels is None else tf.constant([str(x) for x in labels])
        specs = [tf.TensorSpec([None], tf.string, name="text")]
        if task.get("text_pair_key"):
            specs.append(tf.TensorSpec([None], tf.string, name="text_pair"))
        self.classify = tf.function(self._classify, input_signature=specs)

    def signatures(self):
        """The signature map for `tf.saved_model.save` (`serving_default` is `classify`)."""
        return {"classify": self.classify, "serving_default": self.classify}

    def _classify(self, text, text_pair=None):
        first = self.tokenizer.tokenize(checked_utf8(text))
        second = None if text_pair is None else self.tokenizer.tokenize(checked_utf8(text_pair))
        logits = tf.cast(self.classifier(self._packer(first, second), training=False),
                         tf.float32)
        if self._labels is None:
            return {"score": logits[:, 0]}
        label_id = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {"probabilities": tf.nn.softmax(logits), "label_id": label_id,
                "label": tf.gather(self._labels, label_id)}
