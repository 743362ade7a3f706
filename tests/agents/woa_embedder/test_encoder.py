"""The encoder alone: unit vectors, paraphrases above unrelated text, zero-shot accuracy."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from woa_embedder import DIMENSIONS, Encoder

LABELS = ["sports", "weather", "cooking", "finance", "technology", "health"]
LABELLED = [
    ("The striker scored twice in the second half to win the match.", "sports"),
    ("The team clinched the championship after a dramatic overtime.", "sports"),
    ("She finished the marathon in under three hours.", "sports"),
    ("Heavy rain and strong winds are expected along the coast tonight.", "weather"),
    ("Tomorrow will be sunny with temperatures around twenty degrees.", "weather"),
    ("Snow is likely in the mountains over the weekend.", "weather"),
    ("Simmer the onions in butter, then add the garlic and stir.", "cooking"),
    ("Bake the bread at two hundred degrees for forty minutes.", "cooking"),
    ("Whisk the eggs with sugar until the mixture turns pale.", "cooking"),
    ("The central bank raised interest rates by a quarter point.", "finance"),
    ("Shares of the company fell after the quarterly earnings report.", "finance"),
    ("Inflation slowed for the third month in a row.", "finance"),
    ("The new phone ships with a faster processor and more memory.", "technology"),
    ("Developers released a security patch for the operating system.", "technology"),
    ("The laptop's battery lasts twelve hours on a single charge.", "technology"),
    ("Regular exercise and enough sleep lower the risk of heart disease.", "health"),
    ("The doctor prescribed antibiotics for the infection.", "health"),
    ("Drinking enough water helps prevent headaches.", "health"),
]


def test_vectors_are_unit_length_and_deterministic(encoder: Encoder) -> None:
    vectors = encoder.embed(["one sentence", "another one", "a third"])
    assert vectors.shape == (3, DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again = encoder.embed(["another one"])
    assert np.allclose(again[0], vectors[1], atol=1e-5)  # batching does not change a vector
    assert encoder.embed([]).shape == (0, DIMENSIONS)


def test_a_paraphrase_ranks_above_unrelated_sentences(encoder: Encoder) -> None:
    query = "How do I reset my password?"
    candidates = [
        "The train to Berlin leaves at noon.",
        "Steps to change the password of your account",
        "Our bakery sells fresh croissants every morning.",
        "The football match ended in a draw.",
    ]
    order = encoder.rank(query, candidates)
    assert order[0][0] == 1
    assert order[0][1] > order[1][1] + 0.3  # not a close call
    close = encoder.similarity("A man is eating food.", "Someone is having a meal.")
    far = encoder.similarity("A man is eating food.", "The stock market fell sharply today.")
    assert close > 0.5 > far


def test_long_texts_are_truncated_not_refused(encoder: Encoder) -> None:
    vector = encoder.embed(["word " * 5000])
    assert vector.shape == (1, DIMENSIONS)


def test_zero_shot_accuracy_on_a_labelled_set(encoder: Encoder) -> None:
    hits = 0
    for text, label in LABELLED:
        best = encoder.classify(text, LABELS, "This text is about {}.")[0][0]
        hits += LABELS[best] == label
    accuracy = hits / len(LABELLED)
    print(f"\nzero-shot accuracy: {hits}/{len(LABELLED)} = {accuracy:.0%}", file=sys.stderr)
    assert accuracy >= 0.85


@pytest.mark.req("SMP-001")
def test_a_tampered_weight_file_is_refused(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from woa_samples import WeightChecksumError

    model, tokenizer = Encoder.weight_files()
    fake = Path(str(tmp_path)) / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    fake.write_bytes(bytes(data))
    monkeypatch.setattr(Encoder, "weight_files", staticmethod(lambda: (fake, tokenizer)))
    with pytest.raises(WeightChecksumError, match="refusing"):
        Encoder.load()
