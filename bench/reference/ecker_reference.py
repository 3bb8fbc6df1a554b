#!/usr/bin/env python3
"""PyTorch reference of e-c-k-e-r/vall-e's AR+NAR inference (our own code, written from ../shared/fixtures/ecker/FACTS.md,
not upstream's): LLaMA blocks (RMSNorm eps 1e-6, NeoX RoPE theta 10000, exact-GELU gated MLP, no biases), the
segment layout phn <sep> lang <sep> rvq <sep> prom <sep> resp with per-segment position ids, split classifiers.

  ecker_reference.py check FIXTURE_DIR
      Greedy AR (upstream's loop: the whole sequence re-run every step) + NAR levels on a shared fixture
      (fp32.sft, text.npy, prompt_codes.npy, meta.json) against expected_codes.npy; both variants. Exit 0 when equal.

  ecker_reference.py run --checkpoint X.sft --text-tokens T.npy --prompt-codes P.npy --frames N
                         [--variant upstream|cached|both] [--out codes-{variant}.npy]
      Times exactly N AR frames (stop token masked) then NAR levels 1..7. "upstream" re-runs the full sequence every
      AR step (upstream's use_cache=False); "cached" prefills once and decodes one row per step over a KV cache.
      One JSON line per variant: frames, ar_ms, first_step_ms, decode_ms_per_step, nar_ms, total_ms.

  ecker_reference.py run ... --mode nar-len [--demask-steps 25]
      NAR-len (an ar+nar-len file): the len task (the whole sequence re-run per digit), demasking at exactly --frames
      frames with a conditional and a null pass per step (CFG 2.5, rescale 0.75, greedy), then the NAR levels, all full
      passes as upstream. One JSON line: len_ms, len_ms_per_digit, demask_ms, demask_ms_per_step, nar_ms, total_ms.
      `check` on a nar-len fixture (narlen_d96) checks the predicted length and the codes.

  ecker_reference.py make --dim 1024 --heads 16 --layers 12 --out X.sft [--seed 1234] [--narlen [--causal]]
      A random-weight ar+nar .sft with upstream's tensor names and its `config` metadata. The stop row of the AR head
      is zero with bias -100, so greedy decoding never stops early: every implementation does the same work.
      --narlen: an ar+nar-len model (capability len, a len head whose stop digit 10 never wins, noncausal_masks;
      --causal: noncausal_masks false, as upstream's default).

Torch: Debian's python3-torch (1.13, CPU). Use /usr/bin/python3; set OMP_NUM_THREADS or --threads.
"""
import argparse
import json
import math
import pathlib
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

STOP = 1024
DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


# ---- safetensors (no package needed) ---------------------------------------------------------------------------

def read_sft(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        if t["dtype"] == "BF16":
            raw = np.frombuffer(data[a:b], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(data[a:b], dtype=DTYPES[t["dtype"]]).astype(np.float32)
        tensors[name.removeprefix("module.")] = torch.from_numpy(arr.reshape(t["shape"]).copy())
    return tensors, meta


def write_sft(path, tensors, meta):
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for name, t in tensors.items():
        b = t.contiguous().numpy().astype(np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    tmp.replace(path)


# ---- model -----------------------------------------------------------------------------------------------------

class Ecker:
    def __init__(self, path):
        self.w, meta = read_sft(path)
        cfg = json.loads(meta["config"])
        size, exp = cfg["size"], cfg.get("experimental", {})
        self.dim, self.heads, self.layers = size["dim"], size["heads"], size["layers"]
        self.levels = size.get("resp_levels", 8)
        self.langs = cfg.get("langs", 0)
        self.noncausal = bool(exp.get("noncausal_masks", False))
        self.unified = bool(exp.get("unified_position_ids", False))
        assert exp.get("audio_embedding_sums", True) and exp.get("split_classifiers", True)
        self.hd = self.dim // self.heads
        self.bias = exp.get("classifiers_bias", True)

    def emb(self, name, ids):
        return self.w[name][torch.as_tensor(ids, dtype=torch.long)]

    def prefix(self, phn, lang, level, prom):
        """Segments before the output: [(embeddings [n, d], followed-by-sep)]."""
        segs = [self.emb("text_emb.weight", phn)]
        if self.langs > 0:
            segs.append(self.emb("langs_emb.weight", [lang]))
        segs.append(self.emb("rvq_l_emb.weight", [level]))
        k = max(level, 1)
        segs.append(sum(self.emb(f"proms_emb.embeddings.{l}.weight", prom[:, l]) for l in range(k)))
        return segs

    def join(self, segs, out):
        """Inputs [N, d] and position ids: a sep after every prefix segment, none after the output."""
        sep = self.w["sep"].reshape(1, -1)
        rows, pos = [], []
        for s in segs:
            rows += [s, sep]
            pos += list(range(s.shape[0] + 1))
        rows.append(out)
        pos += list(range(out.shape[0]))
        x = torch.cat(rows)
        if self.unified:
            pos = list(range(x.shape[0]))
        return x, torch.tensor(pos, dtype=torch.long)

    @staticmethod
    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    def rope(self, x, pos):   # x [H, N, hd]
        half = self.hd // 2
        inv = 1.0 / (10000 ** (torch.arange(0, half, dtype=torch.float32) / half))
        ang = pos.float()[:, None] * inv[None, :]
        cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        rot = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rot * sin

    def forward(self, x, pos, causal, cache=None):
        """x [N, d] new rows at positions pos; cache: per layer [k, v] of earlier rows (appended to)."""
        n, H, hd = x.shape[0], self.heads, self.hd
        past = cache[0][0].shape[1] if cache and cache[0] else 0
        mask = None
        if causal and n > 1:
            mask = torch.full((n, past + n), float("-inf")).triu(past + 1)
        for i in range(self.layers):
            p = f"model.layers.{i}."
            h = self.rms(x, self.w[p + "input_layernorm.weight"])
            q = (h @ self.w[p + "self_attn.q_proj.weight"].T).view(n, H, hd).transpose(0, 1)
            k = (h @ self.w[p + "self_attn.k_proj.weight"].T).view(n, H, hd).transpose(0, 1)
            v = (h @ self.w[p + "self_attn.v_proj.weight"].T).view(n, H, hd).transpose(0, 1)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache is not None:
                if cache[i]:
                    k = torch.cat([cache[i][0], k], 1)
                    v = torch.cat([cache[i][1], v], 1)
                cache[i] = [k, v]
            s = (q @ k.transpose(1, 2)) / math.sqrt(hd)
            if mask is not None:
                s = s + mask
            a = (torch.softmax(s.float(), -1) @ v).transpose(0, 1).reshape(n, self.dim)
            x = x + a @ self.w[p + "self_attn.o_proj.weight"].T
            h = self.rms(x, self.w[p + "post_attention_layernorm.weight"])
            g = F.gelu(h @ self.w[p + "mlp.gate_proj.weight"].T) * (h @ self.w[p + "mlp.up_proj.weight"].T)
            x = x + g @ self.w[p + "mlp.down_proj.weight"].T
        return self.rms(x, self.w["model.norm.weight"])

    def head(self, i, x):
        y = x @ self.w[f"classifiers.proj.{i}.weight"].T
        return y + self.w[f"classifiers.proj.{i}.bias"] if self.bias else y


def generate(m, phn, lang, prom, max_steps, cached, force=False, clock=None):
    """Greedy AR then NAR; force: exactly max_steps frames (stop masked). Returns codes [T, levels] and timings."""
    t0 = time.perf_counter()
    stamps = []
    prefix = m.prefix(phn, lang, 0, prom)
    resp_tab = m.w["resps_emb.embeddings.0.weight"]
    tokens = []
    with torch.no_grad():
        if cached:
            cache = [None] * m.layers
            x, pos = m.join(prefix, resp_tab[:0])
            y = m.forward(x, pos, True, cache)[-1]
        for step in range(max_steps):
            if not cached:
                x, pos = m.join(prefix, resp_tab[torch.tensor(tokens, dtype=torch.long)])
                y = m.forward(x, pos, True)[-1]
            logits = m.head(0, y)
            if force:
                logits[STOP] = float("-inf")
            tok = int(torch.argmax(logits))
            stamps.append(time.perf_counter())
            if tok == STOP:
                break
            tokens.append(tok)
            if cached and step + 1 < max_steps:
                p = len(tokens) - 1 + (x.shape[0] if m.unified else 0)
                y = m.forward(resp_tab[tok:tok + 1], torch.tensor([p]), True, cache)[-1]
        t1 = time.perf_counter()
        T = len(tokens)
        codes = torch.zeros(T, m.levels, dtype=torch.long)
        codes[:, 0] = torch.tensor(tokens, dtype=torch.long)
        nar_levels(m, phn, lang, prom, codes)
        t2 = time.perf_counter()
    first = (stamps[0] - t0) * 1e3 if stamps else 0.0
    decode = (stamps[-1] - stamps[0]) * 1e3 / (len(stamps) - 1) if len(stamps) > 1 else 0.0
    timing = {"frames": T, "ar_steps": len(stamps), "ar_ms": (t1 - t0) * 1e3, "first_step_ms": first,
              "decode_ms_per_step": decode, "nar_ms": (t2 - t1) * 1e3, "total_ms": (t2 - t0) * 1e3}
    return codes, timing


def nar_levels(m, phn, lang, prom, codes):
    """NAR levels 1..levels-1 over codes [T, levels] (level 0 filled), one full pass each, in place."""
    T = codes.shape[0]
    for level in range(1, m.levels):
        if T == 0:
            break
        out = sum(m.emb(f"resps_emb.embeddings.{l + 1}.weight", codes[:, l]) for l in range(level))
        x, pos = m.join(m.prefix(phn, lang, level, prom), out)
        y = m.forward(x, pos, not m.noncausal)[-T:]
        codes[:, level] = torch.argmax(m.head(level, y), -1)


def generate_nar_len(m, phn, lang, prom, length, steps, cfg_strength=2.5, cfg_rescale=0.75):
    """Upstream's NAR-len algorithm as FACTS.md describes it, with upstream's full passes: the len task re-runs the
    whole sequence per digit (causal, greedy, stop 10, at most 10 steps); demasking runs a conditional and a null pass
    (phonemes [1, 2], no prompt) per step, CFG + std rescale, greedy; then the NAR levels. length None: the predicted
    int(max(len, 75) * 1.05). Returns codes [T, levels], the predicted length and timings."""
    n_heads = 0
    while f"classifiers.proj.{n_heads}.weight" in m.w:
        n_heads += 1
    len_head, demask_head = n_heads - 1, m.levels   # "len" is the last head, "NAR:0:0" follows the NAR levels
    mask_tab = m.w[f"resps_emb.embeddings.{m.levels}.weight"]
    t0 = time.perf_counter()
    stamps = []
    with torch.no_grad():
        prefix = m.prefix(phn, lang, 0, prom)
        digits = [0]
        for _ in range(10):
            x, pos = m.join(prefix, m.emb("len_emb.weight", digits))
            tok = min(int(torch.argmax(m.head(len_head, m.forward(x, pos, True)[-1]))), 10)
            stamps.append(time.perf_counter())
            if tok == 10:
                break
            digits.append(tok)
        predicted = int("".join(str(d) for d in digits))
        t1 = time.perf_counter()
        T = length if length else int(max(predicted, 75) * 1.05)
        null_prefix = [m.emb("text_emb.weight", [1, 2])] + prefix[1:-1]   # lang and rvq kept, no prompt
        tokens = torch.full((T,), STOP, dtype=torch.long)   # the mask token is 1024 too
        scores = torch.ones(T)
        strength = max(cfg_strength, 2.5)
        causal = not m.noncausal
        for s in range(steps):
            t = s / (steps - 1) if steps > 1 else 0.0
            k = min(max(int(math.cos(t * math.pi / 2) * T), 1), max(1, T - s))
            # The k lowest scores, ties: earlier position first (as the engine; torch's topk order is unspecified).
            order = sorted(range(T), key=lambda i: (float(scores[i]), i))
            tokens[order[:k]] = STOP
            masked = tokens == STOP
            out = mask_tab[tokens]
            x, pos = m.join(prefix, out)
            cond = m.head(demask_head, m.forward(x, pos, causal)[-T:])
            x, pos = m.join(null_prefix, out)
            null = m.head(demask_head, m.forward(x, pos, causal)[-T:])
            summed = null + (cond - null) * strength
            logits = summed * (cfg_rescale * cond.std() / summed.std() + (1 - cfg_rescale))
            best = torch.argmax(logits, -1)
            scores = torch.softmax(logits, -1).gather(-1, best[:, None])[:, 0]
            tokens = torch.where(masked, best, tokens)
        t2 = time.perf_counter()
        codes = torch.zeros(T, m.levels, dtype=torch.long)
        codes[:, 0] = tokens
        nar_levels(m, phn, lang, prom, codes)
        t3 = time.perf_counter()
    per_digit = (stamps[-1] - stamps[0]) * 1e3 / (len(stamps) - 1) if len(stamps) > 1 else 0.0
    timing = {"frames": T, "len_digits": len(stamps), "len_ms": (t1 - t0) * 1e3, "len_ms_per_digit": per_digit,
              "demask_steps": steps, "demask_ms": (t2 - t1) * 1e3, "demask_ms_per_step": (t2 - t1) * 1e3 / max(1, steps),
              "nar_ms": (t3 - t2) * 1e3, "total_ms": (t3 - t0) * 1e3}
    return codes, predicted, timing


# ---- commands --------------------------------------------------------------------------------------------------

def check(args):
    folder = pathlib.Path(args.fixture)
    meta = json.loads((folder / "meta.json").read_text())
    m = Ecker(folder / "fp32.sft")
    phn = torch.from_numpy(np.load(folder / "text.npy")).long()
    prom = torch.from_numpy(np.load(folder / "prompt_codes.npy")).long()
    expected = np.load(folder / "expected_codes.npy")
    report = {"fixture": folder.name, "ok": True}
    if meta.get("mode") == "nar-len":
        a = meta["args"]
        codes, predicted, _ = generate_nar_len(m, phn, meta.get("lang", 0), prom, a["nar_len"], meta["sampling"]["max_steps"],
                                               meta["sampling"]["cfg_strength"], meta["sampling"]["cfg_rescale"])
        got = codes.numpy()
        same = got.shape == expected.shape and bool((got == expected).all())
        report["nar-len"] = {"codes_equal": same, "len_pred": predicted, "expected_len_pred": meta.get("len_pred")}
        report["ok"] = same and predicted == meta.get("len_pred")
        print(json.dumps(report))
        return 0 if report["ok"] else 1
    for variant in ("upstream", "cached"):
        codes, timing = generate(m, phn, meta.get("lang", 0), prom, meta["sampling"]["max_duration"], variant == "cached")
        got = codes.numpy()
        same = got.shape == expected.shape and bool((got == expected).all())
        report[variant] = {"codes_equal": same, "shape": list(got.shape), "expected_shape": list(expected.shape)}
        report["ok"] &= same
    print(json.dumps(report))
    return 0 if report["ok"] else 1


def run(args):
    m = Ecker(args.checkpoint)
    phn = torch.from_numpy(np.load(args.text_tokens)).long().reshape(-1)
    prom = torch.from_numpy(np.load(args.prompt_codes)).long().reshape(-1, m.levels)
    if args.mode == "nar-len":
        codes, _, timing = generate_nar_len(m, phn, args.lang, prom, args.frames, args.demask_steps)
        timing.update(variant="upstream", mode="nar-len", threads=torch.get_num_threads(), text_len=int(phn.shape[0]),
                      prompt_frames=int(prom.shape[0]), torch=torch.__version__)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in timing.items()}), flush=True)
        if args.out:
            np.save(args.out.replace("{variant}", "upstream"), codes.numpy().astype(np.int64))
        return 0
    variants = ["upstream", "cached"] if args.variant == "both" else [args.variant]
    for variant in variants:
        codes, timing = generate(m, phn, args.lang, prom, args.frames, variant == "cached", force=True)
        timing.update(variant=variant, threads=torch.get_num_threads(), text_len=int(phn.shape[0]),
                      prompt_frames=int(prom.shape[0]), torch=torch.__version__)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in timing.items()}), flush=True)
        if args.out:
            out = pathlib.Path(args.out.replace("{variant}", variant))
            tmp = out.with_name(out.name + ".tmp.npy")
            np.save(tmp, codes.numpy().astype(np.int64))
            tmp.replace(out)
    return 0


def make(args):
    d, heads, layers, levels, phn_tokens = args.dim, args.heads, args.layers, 8, 256
    ffn = 4 * d
    g = torch.Generator().manual_seed(args.seed)

    def rnd(*shape, scale=None):
        scale = scale if scale is not None else 1.0 / math.sqrt(shape[-1])
        return torch.randn(*shape, generator=g) * scale

    w = {}
    names = ["AR:0:0"] + [f"NAR:{l}:{l + 1}" for l in range(levels - 1)] + ["NAR:0:0", "stt"] + (["len"] if args.narlen else [])
    rows = {"AR:0:0": 1025, "stt": phn_tokens, "len": 11}
    for i, n in enumerate(names):
        w[f"classifiers.proj.{i}.weight"] = rnd(rows.get(n, 1024), d)
        w[f"classifiers.proj.{i}.bias"] = rnd(rows.get(n, 1024), scale=0.02)
    # Stop never wins: greedy runs every requested frame in every implementation.
    w["classifiers.proj.0.weight"][STOP].zero_()
    w["classifiers.proj.0.bias"][STOP] = -100.0
    if args.narlen:
        # Likewise the len task's stop digit (10): every implementation runs all 10 len steps.
        w[f"classifiers.proj.{len(names) - 1}.weight"][10].zero_()
        w[f"classifiers.proj.{len(names) - 1}.bias"][10] = -100.0
    w["langs_emb.weight"] = rnd(4, d, scale=1.0)
    w["len_emb.weight"] = rnd(11, d, scale=1.0)
    for i in range(layers):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = 1 + rnd(d, scale=0.1)
        for n in ("q", "k", "v", "o"):
            w[p + f"self_attn.{n}_proj.weight"] = rnd(d, d)
        w[p + "post_attention_layernorm.weight"] = 1 + rnd(d, scale=0.1)
        w[p + "mlp.gate_proj.weight"] = rnd(ffn, d)
        w[p + "mlp.up_proj.weight"] = rnd(ffn, d)
        w[p + "mlp.down_proj.weight"] = rnd(d, ffn)
    w["model.norm.weight"] = 1 + rnd(d, scale=0.1)
    for l in range(levels):
        w[f"proms_emb.embeddings.{l}.weight"] = rnd(1024, d, scale=1.0)
    for l in range(levels + 1):
        w[f"resps_emb.embeddings.{l}.weight"] = rnd(1025 if l in (0, levels) else 1024, d, scale=1.0)
    w["rvq_l_emb.weight"] = rnd(levels, d, scale=1.0)
    w["sep"] = rnd(d, scale=1.0)
    w["text_emb.weight"] = rnd(phn_tokens, d, scale=1.0)
    config = {
        "name": "ar+nar-len" if args.narlen else "ar+nar", "version": 5,
        "size": {"dim": d, "heads": heads, "layers": layers, "ffn": 4, "resp_levels": levels, "audio_tokens": 1024,
                 "phoneme_tokens": phn_tokens, "text_tokens": phn_tokens},
        "tasks": 9, "langs": 4, "tones": 1, "experts": 1, "arch_type": "llama", "training": False,
        "attention": "auto", "capabilities": ["ar", "nar"] + (["len"] if args.narlen else []) + ["lang"],
        # A NAR-len model as narlen_d96: NAR passes (demasking included) bidirectional, len and AR causal; with
        # --causal every pass causal (upstream's default noncausal_masks=False).
        "experimental": {"split_classifiers": True, "audio_embedding_sums": True, "kv_heads": 0,
                         "unified_position_ids": False, "noncausal_masks": bool(args.narlen and not args.causal), "classifiers_bias": True},
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_sft(out, dict(sorted(w.items())), {"config": json.dumps(config), "userdata": json.dumps({"bench": True})})
    print(f"wrote {out} (random ecker {d}/{heads}/{layers}; AR stop row zeroed, bias -100)", file=sys.stderr)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's, i.e. OMP_NUM_THREADS)")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="reproduce a shared ecker fixture (greedy) with both variants")
    c.add_argument("fixture")
    r = sub.add_parser("run", help="generate and time")
    r.add_argument("--checkpoint", required=True)
    r.add_argument("--text-tokens", required=True)
    r.add_argument("--prompt-codes", required=True)
    r.add_argument("--lang", type=int, default=0)
    r.add_argument("--frames", type=int, required=True)
    r.add_argument("--variant", choices=["upstream", "cached", "both"], default="both")
    r.add_argument("--mode", choices=["ar-nar", "nar-len"], default="ar-nar",
                   help="nar-len: len task, --demask-steps demasking steps at exactly --frames frames, NAR levels (upstream's full passes)")
    r.add_argument("--demask-steps", type=int, default=25)
    r.add_argument("--out", help="write codes [T, levels] int64 .npy here ('{variant}' is replaced)")
    k = sub.add_parser("make", help="write a random-weight ecker .sft")
    k.add_argument("--dim", type=int, default=1024)
    k.add_argument("--heads", type=int, default=16)
    k.add_argument("--layers", type=int, default=12)
    k.add_argument("--seed", type=int, default=1234)
    k.add_argument("--out", required=True)
    k.add_argument("--narlen", action="store_true", help="an ar+nar-len model: a len head (stop digit never wins), noncausal masks")
    k.add_argument("--causal", action="store_true", help="with --narlen: causal masks everywhere (noncausal_masks false)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    return {"check": check, "run": run, "make": make}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
