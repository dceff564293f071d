"""course_utils.text: vocabulary, windows, the char-LSTM with fit, sampling."""
import math

import pytest
import torch
from torch import nn

from course_utils import (
    CharLSTM,
    CharVocab,
    TensorBatches,
    accuracy,
    char_windows,
    fit,
    generate,
    nats_to_bits,
    seed_everything,
    split_text,
)


def test_vocab_round_trip_and_unknown_character():
    vocab = CharVocab.from_text("hello world")
    assert vocab.chars == sorted(set("hello world"))
    ids = vocab.encode("low")
    assert ids.dtype == torch.int64 and vocab.decode(ids) == "low"
    with pytest.raises(KeyError, match="'z'"):
        vocab.encode("lz")
    with pytest.raises(ValueError):
        CharVocab(["a", "a"])


def test_windows_targets_are_the_next_character():
    ids = torch.arange(20)
    x, y = char_windows(ids, seq_len=5)
    assert x.shape == y.shape == (3, 5)
    assert torch.equal(y, x + 1)
    x2, _ = char_windows(ids, seq_len=5, stride=1)
    assert len(x2) == 15
    with pytest.raises(ValueError, match="shorter"):
        char_windows(ids[:4], seq_len=5)


def test_split_text_is_contiguous():
    train, val = split_text("abcdefghij", 0.2)
    assert (train, val) == ("abcdefgh", "ij")
    with pytest.raises(ValueError):
        split_text("abc", 1.5)


def test_char_lstm_learns_a_periodic_text_with_fit():
    seed_everything(0)
    text = "abcd" * 200
    vocab = CharVocab.from_text(text)
    x, y = char_windows(vocab.encode(text), seq_len=16, stride=4)
    model = CharLSTM(len(vocab), embed_dim=8, hidden_size=32)
    assert model(x[:2]).shape == (2, len(vocab), 16)          # (B, V, T)
    hist = fit(model, TensorBatches(x, y, 32, seed=0), (x, y), loss_fn=nn.CrossEntropyLoss(),
               optimizer=torch.optim.Adam(model.parameters(), lr=0.02), epochs=15, metrics={"acc": accuracy},
               progress=False)
    assert hist["val_loss"][-1] < 0.1 < math.log(4)   # chance is ln 4 nats
    assert hist["val_acc"][-1] > 0.99
    out = generate(model, vocab, "ab", length=10, temperature=0)
    assert out == "abcdabcdabcd"


def test_generate_stateless_model_matches_context_and_temperature_checks():
    vocab = CharVocab.from_text("xy")

    class AlwaysY(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, ids):                                # (B, T) -> (B, V, T)
            scores = torch.tensor([-5.0, 5.0])[None, :, None]
            return scores.expand(ids.shape[0], 2, ids.shape[1])

    assert generate(AlwaysY(), vocab, "x", length=5, temperature=0, context=3) == "xyyyyy"
    assert generate(AlwaysY(), vocab, "x", length=5, top_k=1) == "xyyyyy"
    with pytest.raises(ValueError):
        generate(AlwaysY(), vocab, "", length=1)
    with pytest.raises(ValueError):
        generate(AlwaysY(), vocab, "x", temperature=-1)


def test_nats_to_bits():
    assert nats_to_bits(math.log(2)) == pytest.approx(1.0)
