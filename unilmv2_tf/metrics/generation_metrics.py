"""ROUGE (the `rouge-score` package) and corpus BLEU-4 (NLTK) for generated text."""

import warnings

from nltk.translate.bleu_score import corpus_bleu
from rouge_score import rouge_scorer

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def _check_pairs(predictions, references):
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references.")
    if not references:
        raise ValueError("No references to score against.")


def rouge_scores(predictions, references, use_stemmer=True):
    """Mean ROUGE-1/2/L F1 (x100) of `predictions` against `references` (lists of str).

    >>> rouge_scores(["the cat sat"], ["the cat sat"])["rouge1"]
    100.0
    """
    _check_pairs(predictions, references)
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for prediction, reference in zip(predictions, references):
        for name, score in scorer.score(reference, prediction).items():
            totals[name] += score.fmeasure
    return {name: 100.0 * total / len(references) for name, total in totals.items()}


def bleu4(predictions, references):
    """Corpus BLEU-4 (x100, uniform weights, no smoothing) on lower-cased whitespace tokens,
    as question-generation papers report it.

    >>> round(bleu4(["what is the name of the cat ?"], ["what is the name of the cat ?"]), 1)
    100.0
    """
    _check_pairs(predictions, references)
    with warnings.catch_warnings():  # NLTK warns on every zero n-gram count; BLEU is 0 then
        warnings.simplefilter("ignore", UserWarning)
        return 100.0 * corpus_bleu([[r.lower().split()] for r in references],
                                   [p.lower().split() for p in predictions])
