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


def rouge_per_example(predictions, references, use_stemmer=True):
    """ROUGE-1/2/L F1 (x100) of each prediction: `{name: [score per pair]}`.

    >>> rouge_per_example(["the cat sat", "a dog"], ["the cat sat", "the cat"])["rouge1"]
    [100.0, 0.0]
    """
    _check_pairs(predictions, references)
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
    scores = {name: [] for name in ROUGE_TYPES}
    for prediction, reference in zip(predictions, references):
        for name, score in scorer.score(reference, prediction).items():
            scores[name].append(100.0 * score.fmeasure)
    return scores


def rouge_scores(predictions, references, use_stemmer=True):
    """Mean ROUGE-1/2/L F1 (x100) of `predictions` against `references` (lists of str).

    >>> rouge_scores(["the cat sat"], ["the cat sat"])["rouge1"]
    100.0
    """
    scores = rouge_per_example(predictions, references, use_stemmer)
    return {name: sum(values) / len(values) for name, values in scores.items()}


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
