"""`unilmv2 pretrain`: PMLM pretraining from raw text with `model.fit`, then encoder export."""

from absl import flags

from unilmv2_tf import assets
from unilmv2_tf.cli.command_runner import (fail, prepare_model_dir, require_positive,
                                           run_command)
from unilmv2_tf.cli.model_start import (define_vocab_file_flag, start_backbone,
                                        vocabulary_file)
from unilmv2_tf.cli.training_flags import (TRAINING_FLAGS, check_training_flags,
                                           define_training_flags, jit_compile,
                                           training_optimizer, training_setup)
from unilmv2_tf.config import PRESETS
from unilmv2_tf.models.pmlm_pretrainer import OBJECTIVES
from unilmv2_tf.preprocessing.pmlm_masker import PSEUDO_TOKEN_POLICIES

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_list("train_files", [assets.DEFAULT_CORPUS],
                      "Text files: one paragraph a line, a blank line between documents (.gz ok). "
                      "Default: the bundled Moby Dick corpus.")
    flags.DEFINE_list("eval_files", None, "Held-out text files evaluated after each checkpoint.")
    flags.DEFINE_string("init_checkpoint", None,
                        "Continue pretraining from existing weights: a `unilmv2 pretrain` / "
                        "`unilmv2 convert` output folder or a backbone .keras file (its LM head "
                        "too when it has one; otherwise a new head, tied to the word embeddings). "
                        "The model's sizes come from it (--preset is ignored).")
    define_vocab_file_flag()
    flags.DEFINE_enum("preset", "tiny", sorted(PRESETS), "Model size preset.")
    flags.DEFINE_string("config_file", None, "UniLMv2Config JSON; overrides --preset.")
    flags.DEFINE_string("model_dir", None, "Checkpoints, TensorBoard logs and the final model.")
    flags.DEFINE_string("export_dir", "saved_models/unilmv2_encoder",
                        "The encoder SavedModel goes to <export_dir>/<next version>/; '' skips it.")
    flags.DEFINE_integer("train_steps", 1000, "Total optimizer steps.")
    flags.DEFINE_integer("batch_size", 16, "Global batch size.")
    flags.DEFINE_integer("sequence_length", 128, "Main sequence length ([CLS] S1 [SEP] S2 [SEP]).")
    flags.DEFINE_integer("max_predictions", 0, "Masked-token budget per sequence (the appended "
                         "part is twice this); 0 picks ceil(0.15 * text) + 5.")
    flags.DEFINE_float("learning_rate", 6e-4, "Peak learning rate (paper: 6e-4).")
    flags.DEFINE_integer("warmup_steps", -1, "Linear warmup steps; -1 = 4.8% of train_steps as in "
                         "the paper (24k of 0.5M).")
    flags.DEFINE_float("weight_decay", 0.01, "AdamW weight decay.")
    flags.DEFINE_enum("objective", "pmlm", OBJECTIVES, "pmlm = AE + PAR; mlm = AE only; par = PAR "
                      "only (the paper's ablations).")
    flags.DEFINE_enum("pseudo_token_policy", "shared", PSEUDO_TOKEN_POLICIES,
                      "[P] ids: the same 80/10/10 draw as the in-place slot, always [MASK], or an "
                      "independent draw.")
    flags.DEFINE_bool("whole_word", False, "Mask whole words instead of word pieces.")
    flags.DEFINE_integer("seed", 0, "Seed of the data order, masking and initialisation.")
    flags.DEFINE_integer("checkpoint_every", 100, "Steps between checkpoints (and progress lines).")
    flags.DEFINE_integer("keep_checkpoints", 3, "How many checkpoints to keep.")
    flags.DEFINE_integer("eval_steps", 20, "Batches per evaluation when --eval_files is set.")
    define_training_flags(clip_norm=0.0)
    flags.mark_flag_as_required("model_dir")


def _check_flags():
    require_positive("pretrain", ("train_steps", "batch_size", "checkpoint_every",
                                  "keep_checkpoints", "eval_steps"))
    if FLAGS.sequence_length < 8:
        fail("pretrain", f"--sequence_length must be at least 8, got {FLAGS.sequence_length}.")
    if FLAGS.learning_rate <= 0:
        fail("pretrain", f"--learning_rate must be positive, got {FLAGS.learning_rate}.")
    check_training_flags("pretrain")


def main(argv):
    _check_flags()
    run_command("pretrain", argv, run)


def run():
    import tensorflow as tf

    from unilmv2_tf import UniLMv2Config
    from unilmv2_tf.data import check_corpus_files, make_pretraining_dataset
    from unilmv2_tf.export import export_encoder
    from unilmv2_tf.models import PMLMPretrainer
    from unilmv2_tf.preprocessing import (PMLMMasker, UniLMv2PMLMPreprocessor, UniLMv2Tokenizer,
                                          WordPieceTokenizer)
    from unilmv2_tf.training import resumable_fit, worker_index

    # First: MultiWorkerMirroredStrategy must exist before any TF op runs.
    strategy, model_dir, chief = training_setup()
    vocab_file = vocabulary_file()
    tokenizer = WordPieceTokenizer(vocab_file)
    if FLAGS.config_file and FLAGS.init_checkpoint:
        raise ValueError("--config_file and --init_checkpoint both set the model's sizes; "
                         "pass one of them.")
    config = UniLMv2Config.load(FLAGS.config_file) if FLAGS.config_file else None
    train_files = check_corpus_files(FLAGS.train_files)
    eval_files = check_corpus_files(FLAGS.eval_files) if FLAGS.eval_files else None

    budget = FLAGS.max_predictions or PMLMMasker.default_max_predictions(FLAGS.sequence_length)
    masker = PMLMMasker.for_tokenizer(tokenizer, budget,
                                      pseudo_token_policy=FLAGS.pseudo_token_policy,
                                      whole_word=FLAGS.whole_word)

    worker, _, workers = worker_index() if FLAGS.distribution_strategy == \
        "multi_worker_mirrored" else (0, True, 1)

    def dataset(files, train):
        data = make_pretraining_dataset(
            files, tokenizer, masker, FLAGS.sequence_length, FLAGS.batch_size,
            seed=FLAGS.seed if train else 1234, shuffle=train, repeat=True,
            num_input_pipelines=workers, input_pipeline_id=worker if workers > 1 else 0)
        if workers > 1:  # sharded by file (or document) above: no second sharding by Keras
            options = tf.data.Options()
            options.experimental_distribute.auto_shard_policy = \
                tf.data.experimental.AutoShardPolicy.OFF
            data = data.with_options(options)
        return data

    with strategy.scope():
        backbone, head_weights = start_backbone(tokenizer, config)
        max_positions = backbone.config.max_position_embeddings
        if FLAGS.sequence_length > max_positions:
            raise ValueError(f"--sequence_length {FLAGS.sequence_length} exceeds the model's "
                             f"max_position_embeddings ({max_positions}).")
        model = PMLMPretrainer(backbone, objective=FLAGS.objective)
        if head_weights is not None:
            model.lm_head.set_weights(head_weights)
        warmup = (FLAGS.warmup_steps if FLAGS.warmup_steps >= 0
                  else int(0.048 * FLAGS.train_steps))
        model.compile(optimizer=training_optimizer(FLAGS.learning_rate, FLAGS.train_steps,
                                                   warmup, FLAGS.weight_decay),
                      jit_compile=jit_compile())
    folder = prepare_model_dir(model_dir, backbone, vocab_file, _OWN_FLAGS)
    _, seconds = resumable_fit(
        model, dataset(train_files, train=True), model_dir, FLAGS.train_steps,
        FLAGS.checkpoint_every, FLAGS.keep_checkpoints,
        validation_data=dataset(eval_files, train=False) if eval_files else None,
        validation_steps=FLAGS.eval_steps if eval_files else None)
    backbone_path = folder.file(folder.BACKBONE_MODEL)
    backbone.save(backbone_path)
    folder.save_preset(model, UniLMv2PMLMPreprocessor(UniLMv2Tokenizer(vocab_file),
                                                      FLAGS.sequence_length, budget))
    print(f"\nTrained to step {int(model.optimizer.iterations.numpy())} in {seconds:.0f} s.")
    print(f"  checkpoints:  {folder.file(folder.CHECKPOINTS)}")
    print(f"  TensorBoard:  tensorboard --logdir {folder.file(folder.LOGS)}")
    print(f"  backbone:     {backbone_path} (and the folder is a keras-hub preset)")
    if FLAGS.export_dir and chief:
        path = export_encoder(backbone, tokenizer, FLAGS.export_dir, FLAGS.sequence_length)
        print(f"  SavedModel:   {path}  (signatures: encode, encode_ids, serving_default)")


_OWN_FLAGS = ("train_files", "eval_files", "init_checkpoint", "vocab_file", "preset",
              "config_file", "model_dir", "export_dir", "train_steps", "batch_size",
              "sequence_length", "max_predictions", "learning_rate", "warmup_steps",
              "weight_decay", "objective",
              "pseudo_token_policy", "whole_word", "seed", "checkpoint_every",
              "keep_checkpoints", "eval_steps") + TRAINING_FLAGS
