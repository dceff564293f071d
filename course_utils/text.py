"""Character-level language modelling: a vocabulary, training windows, a char-LSTM and sampling.

The models here return per-position scores in PyTorch's class-scores layout ``(B, V, T)``
(batch, vocabulary, time), the layout ``nn.CrossEntropyLoss`` and :func:`course_utils.accuracy`
take for ``(B, T)`` class-index targets, so a language model trains with :func:`course_utils.fit`
unchanged. :func:`generate` samples from any model with that interface (a char-LSTM, a GPT).

Introduced in notebooks/05_recurrent_networks.ipynb (language modelling); reused in
notebooks/06_transformers.ipynb as the baseline of the tiny GPT.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["CharVocab", "char_windows", "split_text", "CharLSTM", "generate", "nats_to_bits"]


class CharVocab:
    """A bijection between the characters of a text and the integers ``0 .. len(vocab) - 1``.

    Args:
        chars: the characters, each once; ``CharVocab.from_text`` builds it from a corpus.
    """

    def __init__(self, chars: Sequence[str]) -> None:
        self.chars = list(chars)
        if len(set(self.chars)) != len(self.chars) or any(len(c) != 1 for c in self.chars):
            raise ValueError("CharVocab needs distinct single characters")
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """The sorted set of characters that occur in ``text``."""
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """``(len(text),)`` int64 ids; an unknown character raises ``KeyError`` naming it."""
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise KeyError(f"characters not in the vocabulary: {unknown!r}; build the vocabulary from a text "
                           f"that contains them, or remove them from the prompt")
        return torch.tensor([self.index[c] for c in text], dtype=torch.int64)

    def decode(self, ids: torch.Tensor | Sequence[int]) -> str:
        """The text of a 1-D sequence of ids."""
        return "".join(self.chars[int(i)] for i in ids)


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """Cut a text in two contiguous parts: the first ``1 - val_fraction`` for training, the rest held out.

    A contiguous cut (not random windows) keeps held-out text genuinely unseen: random windows of one
    text overlap their neighbours, so a model could have trained on most of a "validation" window.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    cut = int(len(text) * (1 - val_fraction))
    return text[:cut], text[cut:]


def char_windows(ids: torch.Tensor, seq_len: int, stride: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and next-character targets for teacher forcing.

    Args:
        ids: ``(N,)`` int64 ids of a text.
        seq_len: window length T.
        stride: step between window starts (default ``seq_len``: non-overlapping windows).

    Returns:
        ``(x, y)``, both ``(W, T)`` int64, with ``y[w, t] == ids[start_w + t + 1]``: at every position
        the target is the character that follows.
    """
    if ids.dim() != 1:
        raise ValueError(f"ids must be 1-D (N,), got shape {tuple(ids.shape)}")
    stride = stride or seq_len
    if len(ids) < seq_len + 1:
        raise ValueError(f"text of {len(ids)} characters is shorter than one window of {seq_len} + 1")
    starts = torch.arange(0, len(ids) - seq_len, stride)
    offsets = torch.arange(seq_len)
    x = ids[starts[:, None] + offsets]          # (W, T)
    y = ids[starts[:, None] + offsets + 1]      # (W, T)
    return x, y


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear: a character-level language model.

    ``forward(ids)`` maps ``(B, T)`` ids to ``(B, V, T)`` next-character scores (logits);
    ``step(ids, state)`` does the same and also returns the LSTM state, so :func:`generate` can feed one
    character at a time instead of re-reading the whole prompt.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 256, num_layers: int = 1,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, vocab_size)

    def step(self, ids: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
             ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Logits ``(B, V, T)`` and the final ``(h, c)`` state, starting from ``state`` (zeros if None)."""
        if ids.dim() != 2:
            raise ValueError(f"CharLSTM expects ids of shape (B, T), got {tuple(ids.shape)}")
        out, state = self.lstm(self.embed(ids), state)   # (B, T, H)
        return self.head(out).transpose(1, 2), state      # (B, V, T)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.step(ids)[0]


@torch.no_grad()
def generate(model: nn.Module, vocab: CharVocab, prompt: str, length: int = 200, *, temperature: float = 1.0,
             top_k: int | None = None, context: int | None = None, seed: int | None = 0) -> str:
    """Sample ``length`` characters after ``prompt`` from a model returning ``(B, V, T)`` logits.

    Args:
        model: a :class:`CharLSTM` (fed one character at a time through its ``step`` state) or any
            model mapping ``(1, T)`` ids to ``(1, V, T)`` logits (re-run on the last ``context`` ids).
        prompt: the start of the text (at least one character of the vocabulary).
        temperature: divides the logits; below 1 is more conservative, above 1 more random. 0 picks
            the most likely character (greedy).
        top_k: sample only among the k most likely characters.
        context: how many of the latest ids a stateless model sees (its maximum sequence length).
        seed: seed of the sampling generator (None: unseeded).

    Returns:
        the prompt followed by the generated characters.
    """
    if not prompt:
        raise ValueError("generate needs a non-empty prompt")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device="cpu")
    if seed is not None:
        gen.manual_seed(seed)
    ids = vocab.encode(prompt).to(device)[None]                 # (1, T)
    stateful = hasattr(model, "step")
    state = None
    feed = ids
    out = []
    for _ in range(length):
        if stateful:
            logits, state = model.step(feed, state)  # type: ignore[operator]  # (1, V, t)
        else:
            window = ids if context is None else ids[:, -context:]
            logits = model(window)                              # (1, V, t)
        scores = logits[0, :, -1].float().cpu()                 # (V,)
        if temperature == 0:
            nxt = int(scores.argmax())
        else:
            scores = scores / temperature
            if top_k is not None:
                kth = torch.topk(scores, min(top_k, len(scores))).values[-1]
                scores = scores.masked_fill(scores < kth, -math.inf)
            nxt = int(torch.multinomial(torch.softmax(scores, dim=0), 1, generator=gen))
        out.append(nxt)
        feed = torch.tensor([[nxt]], device=device)
        ids = torch.cat([ids, feed], dim=1)
    model.train(was_training)
    return prompt + vocab.decode(out)


def nats_to_bits(loss: float) -> float:
    """Convert a cross-entropy from nats (natural log, PyTorch's unit) to bits: divide by ln 2."""
    return loss / math.log(2)
