"""`unilmv2 build-corpus`: pretraining text from the text fields of JSON Lines files."""

from absl import flags

from unilmv2_tf.cli.command_runner import run_command

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_list("inputs", None, "FILE:FIELD pairs: each record's FIELD becomes a document.")
    flags.DEFINE_list("heldout", [], "FILE:FIELD pairs of held-out (valid / test) text: records "
                      "with the same text, or the same --group_key value, are left out.")
    flags.DEFINE_string("group_key", "", "A field naming a record's group (e.g. source_package); "
                        "groups that occur in a --heldout file are left out whole.")
    flags.DEFINE_string("output", None, "The corpus file (.gz to compress); must not exist.")
    flags.mark_flags_as_required(["inputs", "output"])


def _file_fields(name):
    pairs = []
    for item in FLAGS[name].value:
        path, _, field = item.rpartition(":")
        if not path or not field:
            raise ValueError(f"--{name} takes FILE:FIELD pairs, got {item!r}.")
        pairs.append((path, field))
    return pairs


def main(argv):
    run_command("build-corpus", argv, run)


def run():
    from unilmv2_tf.data import build_corpus, write_corpus

    documents, counts = build_corpus(_file_fields("inputs"), _file_fields("heldout"),
                                     FLAGS.group_key or None)
    write_corpus(documents, FLAGS.output)
    words = sum(len(d.split()) for d in documents)
    print(f"wrote {counts['kept']} documents ({words} words) to {FLAGS.output}; of "
          f"{counts['read']} records, left out {counts['duplicates']} duplicates, "
          f"{counts['heldout_text']} held-out texts and {counts['heldout_group']} records of "
          f"held-out groups.")
