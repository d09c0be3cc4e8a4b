"""SQuAD v1.1 / v2.0 JSON -> question-generation JSON Lines for `unilmv2 finetune-seq2seq`.

    python tasks/question_generation/squad_to_jsonl.py train-v1.1.json qg_train.jsonl

Each answerable question becomes `{"source": "<answer> [SEP] <paragraph>", "target":
"<question>"}`: the paper's input is the paragraph with the answer; the answer goes first so
that truncating a long paragraph (the source's tail is cut) never drops it. Unanswerable v2.0
questions are skipped (counted in the summary line).
"""

import argparse
import json
import os

from unilmv2_tf.data import read_squad_examples


def squad_to_records(examples):
    return [{"source": f"{e['answers'][0]['text']} [SEP] {e['context']}",
             "target": e["question"], "id": e["id"]}
            for e in examples if not e["is_impossible"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad_file")
    parser.add_argument("output_file")
    args = parser.parse_args()
    examples = read_squad_examples(args.squad_file)
    records = squad_to_records(examples)
    temporary = f"{args.output_file}.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    os.replace(temporary, args.output_file)
    print(f"{args.output_file}: {len(records)} questions "
          f"({len(examples) - len(records)} unanswerable skipped)")


if __name__ == "__main__":
    main()
