"""Reading SQuAD v1.1 / v2.0 JSON files with errors that name the file and the entry."""

import json
import os


def read_squad_examples(path):
    """Returns one dict per question of a SQuAD-format file:
    `{"id", "title", "context", "question", "answers": [{"text", "answer_start"}],
    "is_impossible"}`.

    Each answer must be found in its context at `answer_start`; v2.0 questions marked
    `is_impossible` have no answers. Anything malformed raises `ValueError` naming the file and
    the entry (`data[i].paragraphs[j].qas[k]`).

    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".json")
    >>> _ = open(path, "w").write('{"data": [{"title": "t", "paragraphs": [{"context": "Hi Bob.",'
    ...     ' "qas": [{"id": "1", "question": "Who?", "answers": [{"text": "Bob",'
    ...     ' "answer_start": 3}]}]}]}]}')
    >>> read_squad_examples(path)[0]["answers"]
    [{'text': 'Bob', 'answer_start': 3}]
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"File not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not valid UTF-8 ({e.reason} at byte {e.start}).") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: malformed JSON ({e.msg} at line {e.lineno}, column "
                         f"{e.colno}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ValueError(f"{path}: expected a SQuAD object with a 'data' list.")
    examples = []
    for i, article in enumerate(document["data"]):
        for j, paragraph in enumerate(_items(path, f"data[{i}]", article, "paragraphs")):
            where = f"{path}: data[{i}].paragraphs[{j}]"
            context = paragraph.get("context") if isinstance(paragraph, dict) else None
            if not isinstance(context, str) or not context.strip():
                raise ValueError(f"{where}: missing or empty 'context'.")
            for k, qa in enumerate(_items(path, f"data[{i}].paragraphs[{j}]", paragraph,
                                          "qas")):
                examples.append(_example(f"{where}.qas[{k}]", qa, context,
                                         article.get("title", "")))
    if not examples:
        raise ValueError(f"{path} holds no questions.")
    return examples


def _items(path, where, parent, key):
    items = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: {where}: expected a '{key}' list.")
    return items


def _example(where, qa, context, title):
    if not isinstance(qa, dict):
        raise ValueError(f"{where}: expected an object.")
    question = qa.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where}: missing or empty 'question'.")
    impossible = bool(qa.get("is_impossible", False))
    answers = qa.get("answers", [])
    if not isinstance(answers, list):
        raise ValueError(f"{where}: 'answers' must be a list.")
    checked = []
    for a, answer in enumerate(answers):
        text = answer.get("text") if isinstance(answer, dict) else None
        start = answer.get("answer_start") if isinstance(answer, dict) else None
        if not isinstance(text, str) or not isinstance(start, int):
            raise ValueError(f"{where}.answers[{a}]: needs 'text' (string) and 'answer_start' "
                             f"(integer).")
        if context[start:start + len(text)] != text:
            raise ValueError(f"{where}.answers[{a}]: {text!r} is not in the context at "
                             f"character {start}.")
        checked.append({"text": text, "answer_start": start})
    if not impossible and not checked:
        raise ValueError(f"{where}: an answerable question needs at least one answer.")
    return {"id": str(qa.get("id", where)), "title": title, "context": context,
            "question": question, "answers": checked, "is_impossible": impossible}
