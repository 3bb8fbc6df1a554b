"""A small PyTorch VALL-E (lifeiteng VALLE, VALL-E X language embeddings) that loads upstream checkpoints.

Our own code, written from the upstream semantics (lifeiteng/vall-e valle/models/valle.py, Plachtaa/VALL-E-X
models/vallex.py): module and parameter names follow upstream's state_dict, so `load_state_dict(strict=True)`
proves that every tensor of the checkpoint is used and nothing is missing. Inference only (dropout absent).
"""
import json
import math
import pathlib
import sys
from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_AUDIO_TOKENS = 1024  # codes 0..1023; 1024 = EOS (AR) / PAD; 1025 = BOS when prepend_bos
LANGUAGES = {"en": 0, "zh": 1, "ja": 2}  # VALL-E X language ids


@dataclass
class Config:
    d_model: int
    nhead: int
    num_layers: int
    norm_first: bool = True
    add_prenet: bool = False
    prefix_mode: int = 0
    share_embedding: bool = True
    scale_factor: float = 1.0
    prepend_bos: bool = False
    num_quantizers: int = 8
    text_vocab: int = 512
    languages: bool = False  # VALL-E X: ar/nar language embeddings

    @property
    def nar_d_model(self):
        return int(self.d_model * self.scale_factor)


# Checkpoint hyper-parameter names (icefall's) -> Config fields.
_HPARAM_NAMES = {
    "decoder_dim": "d_model", "nhead": "nhead", "num_decoder_layers": "num_layers", "norm_first": "norm_first",
    "add_prenet": "add_prenet", "prefix_mode": "prefix_mode", "share_embedding": "share_embedding",
    "scale_factor": "scale_factor", "prepend_bos": "prepend_bos", "num_quantizers": "num_quantizers",
}


_BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def load_checkpoint(path, hparams=None):
    """Returns (Config, state_dict). Hyper-parameters: the checkpoint's top level, overridden by `hparams`
    (a dict with icefall names, e.g. a fixture's meta.json "constructor")."""
    ckpt = torch.load(str(path), map_location="cpu")
    sd = ckpt["model"] if isinstance(ckpt, dict) and "model" in ckpt else ckpt
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    merged = {k: ckpt[k] for k in _HPARAM_NAMES if isinstance(ckpt, dict) and k in ckpt}
    merged.update({k: v for k, v in (hparams or {}).items() if k in _HPARAM_NAMES})
    if str(merged.get("model_name", (hparams or {}).get("model_name", "VALL-E"))).upper().replace("-", "") == "VALLF":
        raise SystemExit("VALL-F checkpoints are not supported by the reference (VALL-E only)")
    # A bare {"model": state_dict} (the released VALL-E X file) carries no hyper-parameters: infer what the
    # shapes tell (width, depth), and take VALL-E X's published settings for the rest unless given.
    languages = "ar_language_embedding.word_embeddings.weight" in sd
    merged.setdefault("decoder_dim", sd["ar_text_embedding.word_embeddings.weight"].shape[1])
    merged.setdefault("num_decoder_layers", 1 + max(
        int(k.split(".")[2]) for k in sd if k.startswith("ar_decoder.layers.")))
    if "nhead" not in merged:
        merged["nhead"] = max(1, merged["decoder_dim"] // 64)
        print(f"refmodel: nhead not given, assuming {merged['nhead']} (64-wide heads)", file=sys.stderr)
    if languages:
        merged.setdefault("prefix_mode", 1)
    kwargs = {_HPARAM_NAMES[k]: v for k, v in merged.items()}
    kwargs["text_vocab"] = sd["ar_text_embedding.word_embeddings.weight"].shape[0]
    kwargs["languages"] = languages
    if "prepend_bos" not in kwargs:  # infer it from the AR audio embedding's rows (1025 or 1026)
        kwargs["prepend_bos"] = sd["ar_audio_embedding.word_embeddings.weight"].shape[0] == NUM_AUDIO_TOKENS + 2
    cfg = Config(**kwargs)
    return cfg, {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}


def read_hparams(path):
    """meta.json of a fixture ({"constructor": {...}}) or a flat JSON of icefall names."""
    meta = json.loads(pathlib.Path(path).read_text())
    return meta.get("constructor", meta)


class TokenEmbedding(nn.Module):
    def __init__(self, d, rows):
        super().__init__()
        self.word_embeddings = nn.Embedding(rows, d)

    def forward(self, ids):
        return self.word_embeddings(ids)


class SinePosition(nn.Module):
    """x + alpha * PE, PE[:, 2i] = sin(pos * w_i), PE[:, 2i+1] = cos(pos * w_i), w_i = 10000^(-2i/d) (float32)."""

    def __init__(self, d):
        super().__init__()
        self.d = d
        self.alpha = nn.Parameter(torch.ones(1))
        self.pe = self._table(4000)

    def _table(self, n):
        pe = torch.zeros(n, self.d)
        pos = torch.arange(0, n, dtype=torch.float32).unsqueeze(1)
        div = torch.exp(torch.arange(0, self.d, 2, dtype=torch.float32) * -(math.log(10000.0) / self.d))
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        return pe.unsqueeze(0)

    def forward(self, x, start=0):
        end = start + x.size(1)
        if end > self.pe.size(1):
            self.pe = self._table(max(end, 2 * self.pe.size(1)))
        return x + self.alpha * self.pe[:, start:end]


class Transpose(nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


def text_prenet(d):
    layers = [Transpose()]
    for _ in range(3):
        layers += [nn.Conv1d(d, d, kernel_size=5, padding="same"), nn.BatchNorm1d(d), nn.ReLU(), nn.Dropout(0.0)]
    return nn.Sequential(*layers, Transpose(), nn.Linear(d, d))


def audio_prenet(d):
    return nn.Sequential(nn.Linear(d, 256), nn.ReLU(), nn.Dropout(0.0), nn.Linear(256, 256), nn.ReLU(),
                         nn.Dropout(0.0), nn.Linear(256, d))


class AdaLayerNorm(nn.Module):
    """weight, bias = split(Linear(stage embedding)); weight * LayerNorm(x) + bias."""

    def __init__(self, d):
        super().__init__()
        self.project_layer = nn.Linear(d, 2 * d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x, stage):
        w, b = torch.split(self.project_layer(stage), x.size(-1), dim=-1)
        return w * self.norm(x) + b


class Layer(nn.Module):
    """Transformer encoder layer (ReLU FFN of 4d), pre- or post-norm, plain or adaptive LayerNorm."""

    def __init__(self, d, nhead, norm_first, adaptive):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, nhead, batch_first=True)
        self.linear1 = nn.Linear(d, 4 * d)
        self.linear2 = nn.Linear(4 * d, d)
        self.norm1 = AdaLayerNorm(d) if adaptive else nn.LayerNorm(d)
        self.norm2 = AdaLayerNorm(d) if adaptive else nn.LayerNorm(d)
        self.norm_first = norm_first
        self.adaptive = adaptive
        self.nhead = nhead

    def norm(self, which, x, stage):
        return which(x, stage) if self.adaptive else which(x)

    def ff(self, x):
        return self.linear2(F.relu(self.linear1(x)))

    def forward(self, x, mask=None, stage=None, attend=None):
        """attend(h) -> attention output; by default torch's MultiheadAttention over the whole sequence."""
        if attend is None:
            def attend(h):
                return self.self_attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        if self.norm_first:
            x = x + attend(self.norm(self.norm1, x, stage))
            return x + self.ff(self.norm(self.norm2, x, stage))
        x = self.norm(self.norm1, x + attend(x), stage)
        return self.norm(self.norm2, x + self.ff(x), stage)


class Stack(nn.Module):
    def __init__(self, d, nhead, layers, norm_first, adaptive):
        super().__init__()
        self.layers = nn.ModuleList([Layer(d, nhead, norm_first, adaptive) for _ in range(layers)])
        if norm_first:  # only pre-norm stacks end with a norm
            self.norm = AdaLayerNorm(d) if adaptive else nn.LayerNorm(d)
        self.adaptive = adaptive

    def final_norm(self, x, stage=None):
        if not hasattr(self, "norm"):
            return x
        return self.norm(x, stage) if self.adaptive else self.norm(x)

    def forward(self, x, mask=None, stage=None):
        for layer in self.layers:
            x = layer(x, mask, stage)
        return self.final_norm(x, stage)


class ValleModel(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        d, nd, nq = cfg.d_model, cfg.nar_d_model, cfg.num_quantizers
        self.ar_text_embedding = TokenEmbedding(d, cfg.text_vocab)
        self.ar_audio_embedding = TokenEmbedding(d, NUM_AUDIO_TOKENS + 1 + int(cfg.prepend_bos))
        if cfg.add_prenet:
            self.ar_text_prenet = text_prenet(d)
            self.ar_audio_prenet = audio_prenet(d)
        self.ar_text_position = SinePosition(d)
        self.ar_audio_position = SinePosition(d)
        self.ar_decoder = Stack(d, cfg.nhead, cfg.num_layers, cfg.norm_first, adaptive=False)
        self.ar_predict_layer = nn.Linear(d, NUM_AUDIO_TOKENS + 1, bias=False)
        if cfg.languages:
            self.ar_language_embedding = TokenEmbedding(d, len(LANGUAGES))
            self.nar_language_embedding = TokenEmbedding(d, len(LANGUAGES))
        self.nar_text_embedding = TokenEmbedding(nd, cfg.text_vocab)  # upstream has it even without a NAR
        if nq > 1:
            self.nar_audio_embeddings = nn.ModuleList(
                [TokenEmbedding(nd, NUM_AUDIO_TOKENS + 1)] + [TokenEmbedding(nd, NUM_AUDIO_TOKENS) for _ in range(nq - 1)])
            if cfg.add_prenet:
                self.nar_text_prenet = text_prenet(nd)
                self.nar_audio_prenet = audio_prenet(nd)
            self.nar_text_position = SinePosition(nd)
            self.nar_audio_position = SinePosition(nd)
            self.nar_decoder = Stack(nd, int(cfg.nhead * cfg.scale_factor), int(cfg.num_layers * cfg.scale_factor),
                                     cfg.norm_first, adaptive=True)
            self.nar_predict_layers = nn.ModuleList([nn.Linear(nd, NUM_AUDIO_TOKENS, bias=False) for _ in range(nq - 1)])
            self.nar_stage_embeddings = nn.ModuleList([TokenEmbedding(nd, 1) for _ in range(nq - 1)])

    def prenet(self, name, x):
        return getattr(self, name)(x) if self.cfg.add_prenet else x

    def embed_text(self, side, text, enroll_len, languages):
        """side 'ar'/'nar': embedding (+ language embeddings: prompt language on the first enroll_len tokens,
        target language on the rest, as VALL-E X), prenet, position."""
        x = getattr(self, f"{side}_text_embedding")(text)
        if self.cfg.languages:
            table = getattr(self, f"{side}_language_embedding")
            prompt_lang, text_lang = (LANGUAGES[lang] for lang in languages)
            x[:, :enroll_len, :] += table(torch.tensor([prompt_lang]))
            x[:, enroll_len:, :] += table(torch.tensor([text_lang]))
        x = self.prenet(f"{side}_text_prenet", x)
        return getattr(self, f"{side}_text_position")(x)


def build(path, hparams=None):
    cfg, sd = load_checkpoint(path, hparams)
    model = ValleModel(cfg)
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model
