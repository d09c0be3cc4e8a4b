"""SQuAD v1.1 / v2.0 exact match and F1 with the official answer normalisation."""

import collections
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text):
    """Lower case, drop punctuation and the articles a/an/the, collapse whitespace (the
    official evaluation script's rule).

    >>> normalize_answer("The  Quick, brown fox!")
    'quick brown fox'
    """
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction, gold):
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction, gold):
    """Bag-of-tokens F1 after normalisation; an empty answer (no-answer) scores 1 only
    against an empty answer."""
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions, examples):
    """`{"exact_match", "f1", "examples"}` (x100) of `predictions` (`{id: answer text}`, "" for
    no answer) over `read_squad_examples` dicts: the best score over each question's gold
    answers; unanswerable questions have the single gold answer "". Missing ids score 0."""
    if not examples:
        raise ValueError("No examples to score.")
    em = f1 = 0.0
    for example in examples:
        golds = [a["text"] for a in example["answers"]] or [""]
        prediction = predictions.get(example["id"], None)
        if prediction is None:
            continue
        em += max(exact_match(prediction, g) for g in golds)
        f1 += max(token_f1(prediction, g) for g in golds)
    return {"exact_match": 100.0 * em / len(examples), "f1": 100.0 * f1 / len(examples),
            "examples": len(examples)}
