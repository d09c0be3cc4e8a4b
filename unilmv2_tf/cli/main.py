"""The `unilmv2` command: `unilmv2 <command> [--flags]`."""

import importlib
import sys

COMMANDS = {
    "pretrain": ("unilmv2_tf.cli.pretrain", "PMLM pretraining from raw text, then export"),
    "build-vocab": ("unilmv2_tf.cli.build_vocab", "learn a WordPiece vocabulary from text"),
}


def usage():
    lines = ["usage: unilmv2 <command> [--flags]   (unilmv2 <command> --helpfull for flags)", "",
             "commands:"]
    lines += [f"  {name:<12} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command = argv[1]
    if command not in COMMANDS:
        print(f"unilmv2: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    from absl import app  # imported here so `unilmv2 --help` stays instant

    module = importlib.import_module(COMMANDS[command][0])
    app.run(module.main, argv=[f"unilmv2 {command}"] + argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
