"""Inference algorithms over refmodel.ValleModel.

- `generate(..., cached=False)`: upstream's algorithm exactly: every AR step re-embeds and re-runs the whole
  text + audio sequence through the decoder (lifeiteng's `VALLE.inference`; VALL-E X's stop rule with
  flavor="vallex").
- `generate(..., cached=True)`: the same model with a key/value cache: one prefill of text + prompt, then one
  row per step. Same numbers up to float rounding.
The NAR is the same for both (it is not autoregressive). Sampling is upstream's `topk_sampling` restated.
"""
import math
import time

import torch
import torch.nn.functional as F

from refmodel import NUM_AUDIO_TOKENS

EOS = NUM_AUDIO_TOKENS
BOS = NUM_AUDIO_TOKENS + 1


def filter_logits(logits, top_k, top_p):
    """Upstream's top_k_top_p_filtering with min_tokens_to_keep=1, filter value -inf (restated, not copied)."""
    if top_k > 0:
        k = min(top_k, logits.size(-1))
        kth = torch.topk(logits, k)[0][..., -1, None]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        over = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1) > top_p
        remove = torch.zeros_like(over)
        remove[..., 1:] = over[..., :-1]  # the first entry over the threshold stays
        logits = logits.masked_fill(remove.scatter(-1, order, remove), float("-inf"))
    return logits


def sample(logits, top_k, top_p, temperature):
    if temperature != 1.0:
        logits = logits / temperature
    return torch.multinomial(F.softmax(filter_logits(logits, top_k, top_p), dim=-1), num_samples=1)


def ar_mask(x_len, y_len):
    """True = masked: text rows see only the text; audio rows see the text and the audio up to themselves."""
    top = F.pad(torch.zeros(x_len, x_len, dtype=torch.bool), (0, y_len), value=True)
    bottom = F.pad(torch.triu(torch.ones(y_len, y_len, dtype=torch.bool), diagonal=1), (x_len, 0), value=False)
    return torch.cat([top, bottom], dim=0)


def embed_audio(model, y, start=0):
    h = model.prenet("ar_audio_prenet", model.ar_audio_embedding(y))
    return model.ar_audio_position(h, start)


class KvCache:
    """Preallocated keys/values per layer, [1, heads, capacity, head_dim]; rows are written in place."""

    def __init__(self, model, capacity):
        cfg = model.cfg
        hd = cfg.d_model // cfg.nhead
        self.k = [torch.empty(1, cfg.nhead, capacity, hd) for _ in range(cfg.num_layers)]
        self.v = [torch.empty(1, cfg.nhead, capacity, hd) for _ in range(cfg.num_layers)]
        self.length = 0


def cached_attention(layer, h, k_cache, v_cache, start, mask):
    """Attention of h's rows (positions start..start+L) over the cache, after appending their keys/values."""
    attn = layer.self_attn
    heads = layer.nhead
    n, length, d = h.shape
    hd = d // heads
    q, k, v = F.linear(h, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    q = q.view(n, length, heads, hd).transpose(1, 2)
    k_cache[:, :, start:start + length] = k.view(n, length, heads, hd).transpose(1, 2)
    v_cache[:, :, start:start + length] = v.view(n, length, heads, hd).transpose(1, 2)
    keys = k_cache[:, :, :start + length]
    values = v_cache[:, :, :start + length]
    scores = torch.matmul(q / math.sqrt(hd), keys.transpose(-1, -2))
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    out = torch.matmul(torch.softmax(scores, dim=-1), values)
    return attn.out_proj(out.transpose(1, 2).reshape(n, length, d))


def decode_cached(model, xy, cache, mask):
    start = cache.length
    for i, layer in enumerate(model.ar_decoder.layers):
        xy = layer(xy, attend=lambda h, i=i: cached_attention(layer, h, cache.k[i], cache.v[i], start, mask))
    cache.length = start + xy.size(1)
    return model.ar_decoder.final_norm(xy)


def should_stop(flavor, logits, token, generated, x_len):
    if flavor == "lifeiteng" and torch.argmax(logits, dim=-1)[0] == EOS:
        return True
    # y holds the BOS slot too when prepend_bos; `generated` already counts it (upstream's len(y) - len(prompt)).
    return token == EOS or generated > x_len * 16


def run_ar(model, text, prompts, enroll_len, languages, top_k, top_p, temperature, flavor, cached,
           forced_frames=None, logits_out=None, timings=None):
    """Returns the generated first-codebook tokens [1, T] and the number of decoder steps run.
    timings (a dict), if given, receives first_step_ms: the prefill (cached) or first full pass (upstream)."""
    t0 = time.perf_counter()
    x = model.embed_text("ar", text, enroll_len, languages)
    x_len = text.shape[1]
    y = prompts[..., 0]
    bos = int(model.cfg.prepend_bos)
    if bos:
        y = F.pad(y, (1, 0), value=BOS)
    prompt_len = prompts.shape[1]
    cache = KvCache(model, x_len + y.shape[1] + (forced_frames or x_len * 16 + 2) + 1) if cached else None
    steps = 0
    while True:
        if forced_frames is not None and y.shape[1] - prompt_len - bos >= forced_frames:
            break  # timing runs: exactly forced_frames decoder steps, one per frame
        if not cached:
            xy = torch.cat([x, embed_audio(model, y)], dim=1)
            h = model.ar_decoder(xy, ar_mask(x_len, y.shape[1]))
        elif cache.length == 0:
            xy = torch.cat([x, embed_audio(model, y)], dim=1)
            h = decode_cached(model, xy, cache, ar_mask(x_len, y.shape[1]))
        else:
            h = decode_cached(model, embed_audio(model, y[:, -1:], start=y.shape[1] - 1), cache, None)
        logits = model.ar_predict_layer(h[:, -1])
        steps += 1
        if steps == 1 and timings is not None:
            timings["first_step_ms"] = (time.perf_counter() - t0) * 1e3
        if logits_out is not None:
            logits_out.append(logits[0].clone())
        if forced_frames is not None:
            logits[..., EOS] = float("-inf")  # timing runs never emit EOS
        token = sample(logits, top_k, top_p, temperature)
        if forced_frames is None and should_stop(flavor, logits, token[0, 0], y.shape[1] - prompt_len, x_len):
            if y.shape[1] == prompt_len:  # upstream's check (never true with prepend_bos, as upstream)
                raise RuntimeError("the model stopped before generating anything (upstream raises here too)")
            break
        y = torch.cat([y, token], dim=1)
    return y[:, prompt_len + bos:], steps


def run_nar(model, text, prompts, enroll_len, languages, generated, logits_out=None):
    cfg = model.cfg
    codes = [generated]
    if cfg.num_quantizers == 1:
        return torch.stack(codes, dim=-1)
    prefix_len = prompts.shape[1]
    y_emb = model.nar_audio_embeddings[0](torch.cat([prompts[..., 0], generated], dim=1))
    if cfg.prefix_mode in (2, 4):  # drop the enrolled (prompt transcript) tokens, keep BOS ... EOS
        text = torch.cat([text[:, :1], text[:, enroll_len - 1:]], dim=1)
    x = model.embed_text("nar", text, enroll_len, languages)
    text_len = text.shape[1]
    if cfg.prefix_mode != 0:
        for j in range(1, cfg.num_quantizers):
            y_emb[:, :prefix_len] += model.nar_audio_embeddings[j](prompts[..., j])
    for i in range(cfg.num_quantizers - 1):
        y_pos = model.nar_audio_position(model.prenet("nar_audio_prenet", y_emb))
        h = model.nar_decoder(torch.cat([x, y_pos], dim=1), None, model.nar_stage_embeddings[i].word_embeddings.weight)
        logits = model.nar_predict_layers[i](h[:, text_len + prefix_len:])
        if logits_out is not None:
            logits_out.append(logits[0].clone())
        tokens = torch.argmax(logits, dim=-1)
        codes.append(tokens)
        if i < cfg.num_quantizers - 2:
            table = model.nar_audio_embeddings[i + 1]
            if cfg.prefix_mode == 0:
                y_emb[:, :prefix_len] += table(prompts[..., i + 1])
            y_emb[:, prefix_len:] += table(tokens)
    return torch.stack(codes, dim=-1)


@torch.inference_mode()
def generate(model, text, prompts, enroll_len=0, languages=("en", "en"), top_k=-100, top_p=1.0, temperature=1.0,
             flavor="lifeiteng", cached=False, forced_frames=None, ar_logits=None, nar_logits=None):
    """text [1, S] int64, prompts [1, T', Q] int64 -> (codes [1, T, Q], timings dict)."""
    t0 = time.perf_counter()
    ar_timings = {}
    generated, steps = run_ar(model, text, prompts, enroll_len, languages, top_k, top_p, temperature, flavor,
                              cached, forced_frames, ar_logits, ar_timings)
    t1 = time.perf_counter()
    codes = run_nar(model, text, prompts, enroll_len, languages, generated, nar_logits)
    t2 = time.perf_counter()
    frames = generated.shape[1]
    return codes, {
        "frames": frames, "ar_steps": steps, "ar_ms": (t1 - t0) * 1e3, "nar_ms": (t2 - t1) * 1e3,
        "total_ms": (t2 - t0) * 1e3, "ar_ms_per_step": (t1 - t0) * 1e3 / max(steps, 1),
        "first_step_ms": ar_timings.get("first_step_ms", 0.0),
        # steps after the first: the steady decode cost (for the cached variant: one new row per step)
        "decode_ms_per_step": ((t1 - t0) * 1e3 - ar_timings.get("first_step_ms", 0.0)) / max(steps - 1, 1),
    }
