"""Accuracy, F1, Matthews correlation, Pearson / Spearman: the GLUE metrics, in NumPy."""

import numpy as np


def _pair(predictions, labels):
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape or predictions.ndim != 1:
        raise ValueError(f"predictions {predictions.shape} and labels {labels.shape} must be "
                         f"1-D and of equal length.")
    if labels.size == 0:
        raise ValueError("No labels to score against.")
    return predictions, labels


def accuracy(predictions, labels):
    predictions, labels = _pair(predictions, labels)
    return float(np.mean(predictions == labels))


def f1_scores(predictions, labels, positive=1):
    """`{"f1": binary F1 of class `positive`, "macro_f1": mean F1 over the classes seen}`.

    >>> f1_scores([1, 1, 0, 0], [1, 0, 0, 0])["f1"]
    0.6666666666666666
    """
    predictions, labels = _pair(predictions, labels)

    def f1(c):
        tp = np.sum((predictions == c) & (labels == c))
        denominator = np.sum(predictions == c) + np.sum(labels == c)
        return float(2 * tp / denominator) if denominator else 0.0

    classes = np.union1d(predictions, labels)
    return {"f1": f1(positive), "macro_f1": float(np.mean([f1(c) for c in classes]))}


def matthews_correlation(predictions, labels):
    """Multi-class MCC (Gorodkin's R_K), equal to the binary formula for two classes.

    >>> matthews_correlation([1, 0, 1, 0], [1, 0, 1, 0])
    1.0
    """
    predictions, labels = _pair(predictions, labels)
    classes = np.union1d(predictions, labels)
    index = {c: i for i, c in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)))
    for p, t in zip(predictions, labels):
        confusion[index[t], index[p]] += 1
    n, correct = confusion.sum(), np.trace(confusion)
    true_totals, predicted_totals = confusion.sum(1), confusion.sum(0)
    numerator = correct * n - true_totals @ predicted_totals
    denominator = np.sqrt((n ** 2 - predicted_totals @ predicted_totals)
                          * (n ** 2 - true_totals @ true_totals))
    return float(numerator / denominator) if denominator else 0.0


def _ranks(values):
    """Average ranks (ties share the mean rank), as Spearman needs."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end - 1) / 2.0
            start = end
    return ranks


def correlations(predictions, labels):
    """`{"pearson", "spearman"}` for regression (STS-B).

    >>> correlations([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])["spearman"]
    1.0
    """
    predictions, labels = _pair(np.asarray(predictions, float), np.asarray(labels, float))
    return {"pearson": float(np.corrcoef(predictions, labels)[0, 1]),
            "spearman": float(np.corrcoef(_ranks(predictions), _ranks(labels))[0, 1])}
