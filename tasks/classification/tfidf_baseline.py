"""Reference point for the recipe: TF-IDF + multinomial logistic regression on the same split.

    python tasks/classification/tfidf_baseline.py [--data ../shared/data/debian-sections]

Written with NumPy alone (scikit-learn is not a dependency of the project): lower-cased word
and word-bigram counts, the `--max_terms` terms found in the most training texts (at least 2),
sublinear tf, smoothed idf, L2-normalised rows; softmax regression with an L2 penalty, trained
full-batch with Adam.
Prints the valid accuracy and macro F1 with the project's metrics.
"""

import argparse
import collections
import math
import os
import re

import numpy as np

from unilmv2_tf.data import label_ids, read_classification_file
from unilmv2_tf.metrics import accuracy, f1_scores


def terms(text):
    words = re.findall(r"[a-z0-9]+", text.lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def softmax(logits):
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    return probabilities / probabilities.sum(1, keepdims=True)


class TfidfFeatures:
    """TF-IDF rows over the `max_terms` terms found in the most of `texts` (at least 2)."""

    def __init__(self, texts, max_terms=20000):
        df = collections.Counter(t for text in texts for t in set(terms(text)))
        vocabulary = [t for t, n in df.most_common(max_terms) if n >= 2]
        self.index = {t: i for i, t in enumerate(vocabulary)}
        self.idf = np.array([math.log((1 + len(texts)) / (1 + df[t])) + 1 for t in vocabulary],
                            np.float32)

    def transform(self, texts):
        """`[len(texts), terms]` sublinear-tf TF-IDF rows, L2-normalised."""
        matrix = np.zeros((len(texts), len(self.index)), np.float32)
        for row, text in enumerate(texts):
            for term, count in collections.Counter(terms(text)).items():
                if term in self.index:
                    matrix[row, self.index[term]] = (1 + math.log(count)) * self.idf[
                        self.index[term]]
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


class TfidfClassifier:
    """TF-IDF features and a softmax regression over them, fitted on `texts` / `labels`."""

    def __init__(self, texts, labels, max_terms=20000, l2=1e-5, steps=400):
        self.labels = sorted(set(labels))
        self.features = TfidfFeatures(texts, max_terms)
        x = self.features.transform(texts)
        onehot = np.eye(len(self.labels), dtype=np.float32)[
            [self.labels.index(label) for label in labels]]
        self.weights = np.zeros((x.shape[1], len(self.labels)), np.float32)
        self.bias = np.zeros(len(self.labels), np.float32)
        moments = [np.zeros_like(self.weights), np.zeros_like(self.weights),
                   np.zeros_like(self.bias), np.zeros_like(self.bias)]
        for step in range(1, steps + 1):  # Adam, lr 0.1, full batch
            error = (self._softmax(x) - onehot) / len(texts)
            gradients = (x.T @ error + l2 * self.weights, error.sum(0))
            for i, (parameter, gradient) in enumerate(zip((self.weights, self.bias), gradients)):
                first, second = moments[2 * i], moments[2 * i + 1]
                first[:] = 0.9 * first + 0.1 * gradient
                second[:] = 0.999 * second + 0.001 * gradient ** 2
                parameter -= 0.1 * (first / (1 - 0.9 ** step)) / (
                    np.sqrt(second / (1 - 0.999 ** step)) + 1e-8)

    def _softmax(self, x):
        return softmax(x @ self.weights + self.bias)

    def predict_proba(self, texts):
        """`[len(texts), len(self.labels)]` class probabilities."""
        return self._softmax(self.features.transform(texts))


def read_split(data, split):
    return read_classification_file(os.path.join(data, f"{split}.jsonl"), text_key="text",
                                    label_key="label")[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/debian-sections")
    parser.add_argument("--l2", type=float, default=1e-5)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--max_terms", type=int, default=20000)
    args = parser.parse_args()
    train, valid = (read_split(args.data, split) for split in ("train", "valid"))
    model = TfidfClassifier([r["text"] for r in train], [r["label"] for r in train],
                            args.max_terms, args.l2, args.steps)
    y_valid = np.array(label_ids(valid, model.labels))  # a label unseen in training: an error
    predicted = model.predict_proba([r["text"] for r in valid]).argmax(1)
    print(f"TF-IDF + logistic regression ({len(model.features.index)} terms, "
          f"{len(train)} train texts) "
          f"on {len(valid)} valid texts: accuracy {accuracy(predicted, y_valid):.4f}  "
          f"macro F1 {f1_scores(predicted, y_valid)['macro_f1']:.4f}")


if __name__ == "__main__":
    main()
