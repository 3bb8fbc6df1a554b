#!/usr/bin/env python3
"""Writes a random-weight VALL-E checkpoint in the upstream layouts (our own code, no upstream imports).

Layouts:
  --family valle|vallf   icefall-style training checkpoint: {"model": state_dict, "optimizer": ..., hyper-params...}
  --family vallex        released VALL-E X style: {"model": state_dict} only (hyper-parameters must be inferred)

Tied weights are real shared storages, as upstream saves them (share_embedding: NAR prediction layer j aliases
NAR audio embedding j + 2). Every parameter is randomised (LayerNorm affine, biases, positional alphas,
BatchNorm running statistics) so that a runtime ignoring any of them produces different numbers.

Examples:
  tools/make_checkpoint.py --preset tiny  --out /tmp/tiny.pt
  tools/make_checkpoint.py --preset small --out small.pt          # 512 wide, 8 heads, 6 layers
  tools/make_checkpoint.py --preset full  --out full.pt           # 1024 wide, 16 heads, 12 layers (~1.4 GB)
"""
import argparse
import math
import pathlib
import sys

import torch

PRESETS = {
    "tiny": dict(d_model=64, nhead=4, layers=2),
    "small": dict(d_model=512, nhead=8, layers=6),
    "full": dict(d_model=1024, nhead=16, layers=12),
}
NUM_AUDIO_TOKENS = 1024


class Maker:
    def __init__(self, seed: int, dtype: torch.dtype):
        self.g = torch.Generator().manual_seed(seed)
        self.dtype = dtype
        self.sd = {}

    def normal(self, *shape, std=1.0, mean=0.0):
        return (torch.randn(*shape, generator=self.g) * std + mean).to(self.dtype)

    def uniform(self, *shape, lo=0.5, hi=1.5):
        return (torch.rand(*shape, generator=self.g) * (hi - lo) + lo).to(self.dtype)

    def linear(self, name, out_f, in_f, bias=True):
        self.sd[f"{name}.weight"] = self.normal(out_f, in_f, std=1.0 / math.sqrt(in_f))
        if bias:
            self.sd[f"{name}.bias"] = self.normal(out_f, std=0.02)

    def layer_norm(self, name, d):
        self.sd[f"{name}.weight"] = self.normal(d, std=0.1, mean=1.0)
        self.sd[f"{name}.bias"] = self.normal(d, std=0.05)

    def ada_norm(self, name, d):
        self.linear(f"{name}.project_layer", 2 * d, d)
        self.layer_norm(f"{name}.norm", d)

    def embedding(self, name, rows, d):
        self.sd[f"{name}.word_embeddings.weight"] = self.normal(rows, d, std=1.0)

    def attention(self, name, d):
        self.sd[f"{name}.in_proj_weight"] = self.normal(3 * d, d, std=1.0 / math.sqrt(d))
        self.sd[f"{name}.in_proj_bias"] = self.normal(3 * d, std=0.02)
        self.linear(f"{name}.out_proj", d, d)

    def decoder(self, prefix, d, layers, norm_first, adaptive, cross):
        norm = self.ada_norm if adaptive else self.layer_norm
        for i in range(layers):
            p = f"{prefix}.layers.{i}"
            self.attention(f"{p}.self_attn", d)
            if cross:
                self.attention(f"{p}.multihead_attn", d)
            self.linear(f"{p}.linear1", 4 * d, d)
            self.linear(f"{p}.linear2", d, 4 * d)
            for k in range(1, 4 if cross else 3):
                norm(f"{p}.norm{k}", d)
        if norm_first:
            norm(f"{prefix}.norm", d)

    def prenets(self, prefix, d):
        # Text prenet: Sequential(Transpose, [Conv1d, BatchNorm1d, ReLU, Dropout] x 3, Transpose, Linear)
        for conv, bn in ((1, 2), (5, 6), (9, 10)):
            self.sd[f"{prefix}_text_prenet.{conv}.weight"] = self.normal(d, d, 5, std=1.0 / math.sqrt(5 * d))
            self.sd[f"{prefix}_text_prenet.{conv}.bias"] = self.normal(d, std=0.02)
            self.sd[f"{prefix}_text_prenet.{bn}.weight"] = self.normal(d, std=0.1, mean=1.0)
            self.sd[f"{prefix}_text_prenet.{bn}.bias"] = self.normal(d, std=0.05)
            self.sd[f"{prefix}_text_prenet.{bn}.running_mean"] = self.normal(d, std=0.1)
            self.sd[f"{prefix}_text_prenet.{bn}.running_var"] = self.uniform(d, lo=0.5, hi=2.0)
            self.sd[f"{prefix}_text_prenet.{bn}.num_batches_tracked"] = torch.tensor(1000, dtype=torch.int64)
        self.linear(f"{prefix}_text_prenet.14", d, d)
        # Audio prenet: Linear(d, 256), ReLU, Dropout, Linear(256, 256), ReLU, Dropout, Linear(256, d)
        self.linear(f"{prefix}_audio_prenet.0", 256, d)
        self.linear(f"{prefix}_audio_prenet.3", 256, 256)
        self.linear(f"{prefix}_audio_prenet.6", d, 256)


def build_state_dict(a) -> dict:
    m = Maker(a.seed, {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[a.dtype])
    d, nar_d = a.d_model, int(a.d_model * a.scale_factor)
    nar_layers = int(a.layers * a.scale_factor)
    text_vocab = a.text_vocab or (2048 if a.family == "vallex" else 512)
    cross = a.family == "vallf"

    m.embedding("ar_text_embedding", text_vocab, d)
    m.embedding("nar_text_embedding", text_vocab, nar_d)
    m.embedding("ar_audio_embedding", NUM_AUDIO_TOKENS + 1 + int(a.prepend_bos), d)
    if a.add_prenet:
        m.prenets("ar", d)
    m.sd["ar_text_position.alpha"] = m.uniform(1)
    m.sd["ar_audio_position.alpha"] = m.uniform(1)
    m.decoder("ar_decoder", d, a.layers, a.norm_first, adaptive=False, cross=cross)
    m.linear("ar_predict_layer", NUM_AUDIO_TOKENS + 1, d, bias=False)
    if a.num_quantizers > 1:
        m.embedding("nar_audio_embeddings.0", NUM_AUDIO_TOKENS + 1, nar_d)
        for j in range(1, a.num_quantizers):
            m.embedding(f"nar_audio_embeddings.{j}", NUM_AUDIO_TOKENS, nar_d)
        if a.add_prenet:
            m.prenets("nar", nar_d)
        m.sd["nar_text_position.alpha"] = m.uniform(1)
        m.sd["nar_audio_position.alpha"] = m.uniform(1)
        m.decoder("nar_decoder", nar_d, nar_layers, a.norm_first, adaptive=True, cross=cross)
        for j in range(a.num_quantizers - 1):
            m.linear(f"nar_predict_layers.{j}", NUM_AUDIO_TOKENS, nar_d, bias=False)
        for j in range(a.num_quantizers - 1):
            m.sd[f"nar_stage_embeddings.{j}.word_embeddings.weight"] = m.normal(1, nar_d)
        if a.share_embedding:
            # Tie: prediction layer j is the (j + 2)-th NAR audio embedding (the same storage).
            for j in range(a.num_quantizers - 2):
                m.sd[f"nar_predict_layers.{j}.weight"] = m.sd[f"nar_audio_embeddings.{j + 2}.word_embeddings.weight"]
    if a.family == "vallex":
        m.embedding("ar_language_embedding", 3, d)
        m.embedding("nar_language_embedding", 3, d)
    return m.sd


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=pathlib.Path)
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    p.add_argument("--family", choices=["valle", "vallf", "vallex"], default="valle")
    p.add_argument("--d-model", type=int)
    p.add_argument("--nhead", type=int)
    p.add_argument("--layers", type=int)
    p.add_argument("--scale-factor", type=float, default=1.0)
    p.add_argument("--norm-first", type=int, choices=[0, 1], default=1)
    p.add_argument("--add-prenet", type=int, choices=[0, 1], default=0)
    p.add_argument("--prefix-mode", type=int, choices=[0, 1, 2, 4], default=1)
    p.add_argument("--share-embedding", type=int, choices=[0, 1], default=1)
    p.add_argument("--prepend-bos", type=int, choices=[0, 1])
    p.add_argument("--num-quantizers", type=int, default=8)
    p.add_argument("--text-vocab", type=int)
    p.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    p.add_argument("--seed", type=int, default=1234)
    a = p.parse_args(argv)
    preset = PRESETS[a.preset]
    a.d_model = a.d_model or preset["d_model"]
    a.nhead = a.nhead or preset["nhead"]
    a.layers = a.layers or preset["layers"]
    if a.prepend_bos is None:
        a.prepend_bos = 1 if a.family == "vallex" else 0
    a.norm_first, a.add_prenet, a.share_embedding, a.prepend_bos = map(
        bool, (a.norm_first, a.add_prenet, a.share_embedding, a.prepend_bos))
    if a.d_model % a.nhead:
        p.error("--d-model must be divisible by --nhead")

    sd = build_state_dict(a)
    if a.family == "vallex":
        ckpt = {"model": sd}
    else:
        ckpt = {
            "model": sd,
            "optimizer": {"state": {}, "param_groups": [{"lr": 0.05, "betas": (0.9, 0.98)}]},
            "scheduler": {"base_lrs": [0.05], "last_epoch": 1},
            "model_name": "VALL-F" if a.family == "vallf" else "VALL-E",
            "decoder_dim": a.d_model,
            "nhead": a.nhead,
            "num_decoder_layers": a.layers,
            "scale_factor": a.scale_factor,
            "norm_first": a.norm_first,
            "add_prenet": a.add_prenet,
            "prefix_mode": a.prefix_mode,
            "share_embedding": a.share_embedding,
            "prepend_bos": a.prepend_bos,
            "num_quantizers": a.num_quantizers,
            "exp_dir": pathlib.PurePosixPath("exp/valle-random"),
            "best_valid_loss": float("inf"),
            "note": "random weights generated by VallE.NET tools/make_checkpoint.py (untrained)",
        }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_name(a.out.name + ".tmp")
    torch.save(ckpt, tmp)
    tmp.replace(a.out)
    n = sum(t.numel() for t in {id(t): t for t in sd.values()}.values())
    print(f"wrote {a.out} ({a.family}, d={a.d_model}, heads={a.nhead}, layers={a.layers}, {n/1e6:.1f}M parameters)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
