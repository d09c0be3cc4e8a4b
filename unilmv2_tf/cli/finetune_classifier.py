"""`unilmv2 finetune-classifier`: text (pair) classification or regression on `[CLS]`."""

from absl import flags

from unilmv2_tf.cli.command_runner import prepare_model_dir, run_command
from unilmv2_tf.cli.finetune_flags import (FINETUNE_FLAGS, apply_lora, check_finetune_flags,
                                           define_finetune_flags, finetune_optimizer)
from unilmv2_tf.cli.model_start import start_backbone, vocabulary_file
from unilmv2_tf.cli.training_flags import jit_compile, training_setup
from unilmv2_tf.preprocessing.text_pair_packer import TRUNCATION_STRATEGIES

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_string("train_file", None, "JSON Lines, or a GLUE-style .tsv with a header row.")
    flags.DEFINE_string("valid_file", None, "Held-out file in the same format; scored at the end.")
    flags.DEFINE_string("text_key", "text", "Field / column of the (first) text.")
    flags.DEFINE_string("text_pair_key", "", "Field / column of the second text ('' = single).")
    flags.DEFINE_string("label_key", "label", "Field / column of the label.")
    flags.DEFINE_enum("task", "classification", ["classification", "regression"],
                      "regression: one score, MSE loss, Pearson / Spearman.")
    flags.DEFINE_bool("skip_malformed", False, "Skip (and count) malformed rows instead of "
                      "stopping at the first one.")
    flags.DEFINE_integer("max_train_examples", 0, "Use only the first N training rows (0 = all).")
    flags.DEFINE_integer("sequence_length", 128, "Packed length incl. [CLS] and [SEP]s.")
    flags.DEFINE_enum("truncation", "longest_first", TRUNCATION_STRATEGIES, "Pair truncation.")
    flags.DEFINE_bool("use_pooler", False, "A tanh pooler before the classifier (later BERT code); "
                      "the paper uses a linear layer on [CLS].")
    flags.DEFINE_enum("pooling", "cls", ["cls", "mean"], "What the classifier reads: the [CLS] "
                      "state (the paper), or the mean of the real tokens' states (how sentence "
                      "encoders such as all-MiniLM-L6-v2 were trained).")
    define_finetune_flags("a keras-hub preset, classifier.keras, task_settings.json, "
                          "valid_metrics.json", 2e-5,
                          "Peak learning rate (paper: 1e-5 to 4e-5 for a pretrained base model; "
                          "from scratch use ~1e-3).", warmup_ratio=0.1)
    flags.mark_flag_as_required("train_file")


_OWN_FLAGS = ("train_file", "valid_file", "text_key", "text_pair_key", "label_key", "task",
              "skip_malformed", "max_train_examples", "sequence_length", "truncation",
              "use_pooler", "pooling") + FINETUNE_FLAGS


def main(argv):
    check_finetune_flags("finetune-classifier", ("sequence_length",))
    run_command("finetune-classifier", argv, run)


def run():
    import keras

    from unilmv2_tf.data import make_classification_dataset
    from unilmv2_tf.models import Classifier, evaluate_classifier, read_task_rows
    from unilmv2_tf.preprocessing import (TextPairPacker, UniLMv2TextClassifierPreprocessor,
                                          UniLMv2Tokenizer, WordPieceTokenizer)
    from unilmv2_tf.training import resumable_fit

    # First: MultiWorkerMirroredStrategy must exist before any TF op runs.
    strategy, model_dir, _ = training_setup()
    task = {"task": FLAGS.task, "text_key": FLAGS.text_key,
            "text_pair_key": FLAGS.text_pair_key, "label_key": FLAGS.label_key,
            "sequence_length": FLAGS.sequence_length, "truncation": FLAGS.truncation}
    train = read_task_rows(FLAGS.train_file, task, FLAGS.skip_malformed,
                           FLAGS.max_train_examples or None)
    labels = (sorted({r["label"] for r in train}) if FLAGS.task == "classification" else None)
    if labels is not None and len(labels) < 2:
        raise ValueError(f"{FLAGS.train_file} has a single label {labels}; classification "
                         f"needs at least two.")
    task["labels"] = labels
    vocab_file = vocabulary_file()
    tokenizer = WordPieceTokenizer(vocab_file)
    with strategy.scope():
        backbone = apply_lora(start_backbone(tokenizer)[0])
        model = Classifier(backbone, len(labels) if labels else 1, use_pooler=FLAGS.use_pooler,
                           pooling=FLAGS.pooling)
        loss = (keras.losses.SparseCategoricalCrossentropy(from_logits=True) if labels
                else keras.losses.MeanSquaredError())
        model.compile(optimizer=finetune_optimizer(), loss=loss,
                      metrics=["accuracy"] if labels else None, jit_compile=jit_compile())
    folder = prepare_model_dir(model_dir, backbone, vocab_file, _OWN_FLAGS)
    folder.write_json(folder.TASK_SETTINGS, task)

    packer = TextPairPacker.for_tokenizer(tokenizer, FLAGS.sequence_length,
                                          truncation=FLAGS.truncation)
    data = make_classification_dataset(train, tokenizer, packer, labels, FLAGS.batch_size,
                                       seed=FLAGS.seed)
    _, seconds = resumable_fit(model, data, model_dir, FLAGS.train_steps,
                               FLAGS.checkpoint_every, FLAGS.keep_checkpoints)
    path = folder.file(folder.CLASSIFIER_MODEL)
    model.save(path)
    folder.save_preset(model, UniLMv2TextClassifierPreprocessor(
        UniLMv2Tokenizer(vocab_file), FLAGS.sequence_length, truncate=FLAGS.truncation))
    print(f"\nTrained to step {int(model.optimizer.iterations.numpy())} in {seconds:.0f} s.\n"
          f"  model: {path}\n  keras-hub preset: {model_dir} "
          f"(keras_hub.models.TextClassifier.from_preset)")
    if FLAGS.valid_file:
        scores = evaluate_classifier(model, tokenizer, task, FLAGS.valid_file,
                                     folder.file(folder.VALID_METRICS))
        print("  valid: " + "  ".join(f"{k} {v:.4f}" for k, v in scores.items()
                                      if isinstance(v, float)))
