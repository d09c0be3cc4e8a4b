"""SQuAD-style windowing of long passages and mapping predicted spans back to the text."""

import numpy as np


def _char_offsets(text, byte_starts, byte_ends):
    """tensorflow-text gives byte offsets into the UTF-8 input; map them to characters."""
    encoded = text.encode("utf-8")
    byte_to_char = np.zeros(len(encoded) + 1, np.int64)
    position = 0
    for index, char in enumerate(text):
        width = len(char.encode("utf-8"))
        byte_to_char[position:position + width] = index
        position += width
    byte_to_char[position] = len(text)
    return byte_to_char[byte_starts], byte_to_char[byte_ends]


class QAWindower:
    """Turns (question, passage) examples into fixed-length windows and back.

    Each window is `[CLS] question [SEP] passage piece [SEP]` (question segment 0, passage 1),
    the question cut to `max_query_length` pieces and the passage split into overlapping
    pieces every `doc_stride` tokens, so long passages are covered whole. Tokenization and
    offsets come from tensorflow-text (`tokenize_with_offsets`); windowing itself is plain
    Python over the token offsets (it runs once per data set, not per step). Each window
    keeps the character span of every passage token, so `best_answers` returns answer text
    exactly as written in the passage, unicode included.

    Example:
    >>> from unilmv2_tf.preprocessing import WordPieceTokenizer
    >>> windower = QAWindower(WordPieceTokenizer(), sequence_length=16, doc_stride=4,
    ...                       max_query_length=6)
    >>> features, windows = windower.windows([{"id": "q", "question": "Who is it?",
    ...     "context": "It is Ishmael, a sailor who tells the story of the whale.",
    ...     "answers": [{"text": "Ishmael", "answer_start": 6}]}], training=True)
    >>> len(windows) > 1, features["token_ids"].shape[1]
    (True, 16)
    """

    def __init__(self, tokenizer, sequence_length=384, doc_stride=128, max_query_length=64):
        if max_query_length + 4 >= sequence_length:
            raise ValueError(f"sequence_length ({sequence_length}) must exceed "
                             f"max_query_length + 4 ({max_query_length + 4}).")
        if not 0 < doc_stride:
            raise ValueError(f"doc_stride must be positive, got {doc_stride}.")
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.doc_stride = doc_stride
        self.max_query_length = max_query_length

    def _tokenize(self, texts):
        # WordPieceTokenizer gives [batch, pieces] ids and byte offsets.
        return [t.to_list() for t in self.tokenizer.tokenize_with_offsets(texts)]

    def windows(self, examples, training=False):
        """`(features, windows)`: `features` holds int32 arrays `[N, L]` (`token_ids`,
        `segment_ids`, `padding_mask`) and, with `training`, `start_positions`,
        `end_positions`, `answerable` `[N]`; `windows` describes each row (`example` index,
        `token_chars`: the character span of every passage token, else None)."""
        questions = self._tokenize([e["question"] for e in examples])[0]
        contexts = self._tokenize([e["context"] for e in examples])
        rows, windows = [], []
        for index, example in enumerate(examples):
            question = questions[index][:self.max_query_length]
            ids = contexts[0][index]
            char_starts, char_ends = _char_offsets(example["context"],
                                                   np.asarray(contexts[1][index], np.int64),
                                                   np.asarray(contexts[2][index], np.int64))
            span = self._answer_tokens(example, char_starts, char_ends) if training else None
            budget = self.sequence_length - len(question) - 3
            start = 0
            while True:
                piece = range(start, min(start + budget, len(ids)))
                rows.append(self._row(question, ids, piece, span))
                offset = len(question) + 2  # [CLS] question [SEP]
                chars = [None] * self.sequence_length
                for position, token in enumerate(piece):
                    chars[offset + position] = (int(char_starts[token]), int(char_ends[token]))
                windows.append({"example": index, "token_chars": chars})
                if piece.stop >= len(ids):
                    break
                start += self.doc_stride
        features = {key: np.asarray([row[key] for row in rows], np.int32) for key in rows[0]}
        return features, windows

    @staticmethod
    def _answer_tokens(example, char_starts, char_ends):
        """Token span of the first gold answer, or None (unanswerable)."""
        if example.get("is_impossible") or not example.get("answers"):
            return None
        answer = example["answers"][0]
        first, last = answer["answer_start"], answer["answer_start"] + len(answer["text"])
        inside = np.nonzero((char_ends > first) & (char_starts < last))[0]
        return (int(inside[0]), int(inside[-1])) if inside.size else None

    def _row(self, question, ids, piece, span):
        length = self.sequence_length
        tokens = ([self.tokenizer.cls_id] + question + [self.tokenizer.sep_id]
                  + [ids[i] for i in piece] + [self.tokenizer.sep_id])
        segments = [0] * (len(question) + 2) + [1] * (len(piece) + 1)
        row = {"token_ids": tokens + [self.tokenizer.pad_id] * (length - len(tokens)),
               "segment_ids": segments + [0] * (length - len(segments)),
               "padding_mask": [1] * len(tokens) + [0] * (length - len(tokens))}
        offset = len(question) + 2
        inside = span is not None and piece.start <= span[0] and span[1] < piece.stop
        row["start_positions"] = offset + span[0] - piece.start if inside else 0
        row["end_positions"] = offset + span[1] - piece.start if inside else 0
        row["answerable"] = int(inside)
        return row

    @staticmethod
    def best_answers(examples, windows, outputs, max_answer_length=30, n_best=20,
                     allow_no_answer=False):
        """`{id: {"text", "start", "end", "score"}}`: the best span over each example's
        windows (start <= end, at most `max_answer_length` tokens, inside the passage), scored
        start + end logit; character `start`/`end` index the original passage. With
        `allow_no_answer` (SQuAD 2.0), an example whose best window answerability
        probability is below 0.5 gets the empty answer."""
        best, answerable = {}, {}
        for row, window in enumerate(windows):
            example = examples[window["example"]]
            chars = window["token_chars"]
            start_logits = outputs["start_logits"][row]
            end_logits = outputs["end_logits"][row]
            answerable[example["id"]] = max(
                answerable.get(example["id"], -np.inf),
                float(outputs["answerable_logits"][row]))
            for s in np.argsort(start_logits)[::-1][:n_best]:
                for e in np.argsort(end_logits)[::-1][:n_best]:
                    if chars[s] is None or chars[e] is None or e < s or \
                            e - s + 1 > max_answer_length:
                        continue
                    score = float(start_logits[s] + end_logits[e])
                    if example["id"] not in best or score > best[example["id"]]["score"]:
                        first, last = chars[s][0], chars[e][1]
                        best[example["id"]] = {"text": example["context"][first:last],
                                               "start": first, "end": last, "score": score}
        answers = {}
        for example in examples:
            answer = best.get(example["id"], {"text": "", "start": -1, "end": -1,
                                              "score": float("-inf")})
            if allow_no_answer and answerable.get(example["id"], -np.inf) < 0.0:
                answer = {"text": "", "start": -1, "end": -1, "score": answer["score"]}
            answers[example["id"]] = answer
        return answers
