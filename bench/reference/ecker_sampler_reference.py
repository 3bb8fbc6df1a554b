#!/usr/bin/env python3
"""float64 PyTorch reference of e-c-k-e-r/vall-e's sampling order (our own code, written from the semantics of
upstream's Base.sample in vall_e/models/base.py and the filters in vall_e/samplers.py at commit 73833ee; none of
upstream's code is copied). For random logits and a set of option combinations it writes the distribution each row is
finally drawn from, after every penalty, filter and temperature step, plus upstream's NAR-len score (the argmax's
probability when the same steps run at temperature 0).

  ecker_sampler_reference.py OUT.json [--seed 15]

Writes tests/VallE.Tests/Ecker/ecker-sampler.json when given that path. Torch: /usr/bin/python3 (1.13, CPU).

The steps, in upstream's order, for logits [R, V] and a history `previous` of n tokens:
  1. repetition penalty: for every occurrence i (not once per distinct token) divide logits[rows, previous[i]] by
     factor * (n - i) ** decay. rows = all, except when n == R (upstream's test for "NAR"), then the rows after i.
  2. length penalty (AR only): logits[:, stop] /= (n + 1) ** factor.
  3. min-p on the untempered logits: drop probability < min_p * max probability, but never the 32 most likely.
  4. top-k: drop logits below the k-th largest; top-p: in descending order, drop every token after the first whose
     cumulative probability exceeds top_p.
  5. temperature: minimum < 0 means the temperature itself; when |T - min| >= 0.001 the dynamic temperature
     T - (T - min) / (1 + exp(-10 (p_max - 0.5))) divides each row, else T > 0 divides.
  6. T <= 0: one-hot at the argmax; else the softmax.
Ties sort lower index first (a stable descending sort).
"""
import argparse
import json
import math

import numpy as np
import torch

KEEP = 32  # upstream's min_tokens_to_keep in min_p_filtering
NEG = -float("inf")


def repetition(logits, previous, factor, decay):
    if factor == 1.0 or len(previous) == 0:
        return
    n, rows = len(previous), logits.shape[0]
    for i, token in enumerate(previous):
        first = i + 1 if n == rows else 0
        logits[first:, token] = logits[first:, token] / (factor * float(n - i) ** decay)


def descending(row):
    return torch.sort(row, descending=True, stable=True)


def min_p(logits, p):
    for r in range(logits.shape[0]):
        row = logits[r]
        probs = torch.softmax(row, dim=-1)
        threshold = p * probs.max()
        _, order = descending(row)
        drop = probs[order] < threshold
        drop[:KEEP] = False
        row[order[drop]] = NEG


def top_k(logits, k):
    k = min(max(k, 1), logits.shape[-1])
    for r in range(logits.shape[0]):
        row = logits[r]
        kth = torch.topk(row, k).values[-1]
        row[row < kth] = NEG


def top_p(logits, p):
    for r in range(logits.shape[0]):
        row = logits[r]
        values, order = descending(row)
        cumulative = torch.cumsum(torch.softmax(values, dim=-1), dim=-1)
        drop = torch.zeros_like(cumulative, dtype=torch.bool)
        drop[1:] = cumulative[:-1] > p
        row[order[drop]] = NEG


def temper(logits, t, t_min):
    if t_min < 0:
        t_min = t
    if abs(t - t_min) >= 0.001:
        for r in range(logits.shape[0]):
            p_max = torch.softmax(logits[r], dim=-1).max().item()
            logits[r] = logits[r] / (t - (t - t_min) / (1 + math.exp(-10 * (p_max - 0.5))))
    elif t > 0:
        logits /= t


def process(logits, previous, o, ar, stop, temperature):
    x = logits.clone()
    repetition(x, previous, o["repetition_penalty"], o["repetition_penalty_decay"])
    if ar and o["length_penalty"] != 0.0:
        x[:, stop] = x[:, stop] / float(len(previous) + 1) ** o["length_penalty"]
    if o["min_p"] > 0:
        min_p(x, o["min_p"])
    if o["top_k"] > 0 or o["top_p"] < 1:
        if o["top_k"] > 0:
            top_k(x, o["top_k"])
        if o["top_p"] < 1:
            top_p(x, o["top_p"])
    temper(x, temperature, o["min_temperature"])
    return x


def distribution(logits, previous, o, ar, stop):
    x = process(logits, previous, o, ar, stop, o["temperature"])
    if o["temperature"] <= 0:
        return torch.nn.functional.one_hot(x.argmax(dim=-1), x.shape[-1]).double()
    return torch.softmax(x, dim=-1)


def scores(logits, previous, o, ar, stop):
    x = process(logits, previous, o, ar, stop, 0.0)
    best = x.argmax(dim=-1)
    return best, torch.softmax(x, dim=-1).gather(1, best[:, None])[:, 0]


DEFAULTS = dict(temperature=1.0, min_temperature=-1.0, top_k=0, top_p=1.0, min_p=0.0,
                repetition_penalty=1.0, repetition_penalty_decay=0.0, length_penalty=0.0)

# name, mode, rows, vocab, scale, history, options
CASES = [
    ("plain T=1", "ar", 1, 96, 3.0, [], {}),
    ("temperature 0.7", "ar", 1, 96, 3.0, [], dict(temperature=0.7)),
    ("min-p keeps 32", "ar", 1, 96, 3.0, [], dict(min_p=0.3)),
    ("min-p above 32", "ar", 1, 96, 1.0, [], dict(min_p=0.05)),
    ("min-p then temperature", "ar", 1, 96, 2.0, [], dict(min_p=0.3, temperature=0.5)),
    ("top-k 10 T=1.3", "ar", 1, 96, 3.0, [], dict(top_k=10, temperature=1.3)),
    ("top-p 0.8 T=0.6 (filter before temperature)", "ar", 1, 96, 2.0, [], dict(top_p=0.8, temperature=0.6)),
    ("top-k + top-p", "ar", 1, 96, 2.0, [], dict(top_k=20, top_p=0.7)),
    ("min-p + top-k + top-p", "ar", 1, 96, 1.0, [], dict(min_p=0.02, top_k=50, top_p=0.9, temperature=0.8)),
    ("top-p 0", "ar", 1, 96, 3.0, [], dict(top_p=0.0)),
    ("repetition every occurrence", "ar", 1, 96, 3.0, "top:5,5,3,7,5", dict(repetition_penalty=1.5)),
    ("repetition with decay", "ar", 1, 96, 3.0, "top:1,4,2,1,0,1", dict(repetition_penalty=1.3, repetition_penalty_decay=0.5)),
    ("repetition negative decay, negative logits", "ar", 1, 96, 3.0, "low:3,3,8", dict(repetition_penalty=2.0, repetition_penalty_decay=-0.7)),
    ("repetition penalty < 1", "ar", 1, 96, 3.0, "top:2,6", dict(repetition_penalty=0.8)),
    ("AR quirk: one token generated, no penalty", "ar", 1, 96, 3.0, "top:0", dict(repetition_penalty=3.0)),
    ("length penalty > 0", "ar", 1, 96, 2.0, "top:4,9,11,2,7,8,1", dict(length_penalty=0.8)),
    ("length penalty < 0", "ar", 1, 96, 2.0, "top:4,9,11", dict(length_penalty=-1.2, temperature=0.9)),
    ("dynamic temperature", "ar", 1, 96, 2.0, [], dict(temperature=1.2, min_temperature=0.3)),
    ("dynamic temperature, T=0 with a minimum", "ar", 1, 96, 2.0, [], dict(temperature=0.0, min_temperature=0.5, top_k=8)),
    ("greedy with penalties", "ar", 1, 96, 1.0, "top:0,0,1", dict(temperature=0.0, repetition_penalty=4.0, length_penalty=0.5)),
    ("everything, AR", "ar", 1, 1025, 2.0, "top:3,7,3,12,0,3,9,7", dict(temperature=0.9, min_temperature=0.4, top_k=200,
                                                                        top_p=0.95, min_p=0.01, repetition_penalty=1.4,
                                                                        repetition_penalty_decay=0.3, length_penalty=0.6)),
    ("NAR rows: penalty from earlier rows only", "nar", 5, 64, 3.0, "top:0,1,0,2,1", dict(repetition_penalty=1.8, temperature=0.8)),
    ("NAR rows with decay and filters", "nar", 4, 64, 2.0, "top:1,1,1,3", dict(repetition_penalty=1.3, repetition_penalty_decay=1.0,
                                                                          top_k=12, top_p=0.9, min_p=0.05, temperature=1.1)),
    ("NAR greedy", "nar", 3, 64, 2.0, "top:0,4,2", dict(temperature=0.0)),
    ("NAR dynamic temperature", "nar", 3, 64, 2.0, "top:0,1,2", dict(temperature=0.6, min_temperature=1.5, min_p=0.1)),
]


def history(spec, logits):
    """'top:a,b' = the a-th, b-th most likely token of row 0 (so the penalty bites); 'low:...' the least likely."""
    if isinstance(spec, list):
        return spec
    kind, ranks = spec.split(":")
    order = torch.argsort(logits[0], descending=(kind == "top"), stable=True).tolist()
    return [order[int(r)] for r in ranks.split(",")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    cases = []
    for name, mode, rows, vocab, scale, spec, options in CASES:
        o = DEFAULTS | options
        # float32 logits, as the model's; the reference computes in float64 from these exact values.
        logits32 = (rng.standard_normal((rows, vocab)) * scale).astype(np.float32)
        logits = torch.from_numpy(logits32.astype(np.float64))
        previous = history(spec, logits)
        if mode == "nar":
            assert len(previous) == rows
        stop = vocab - 1
        probs = distribution(logits, previous, o, mode == "ar", stop)
        best, score = scores(logits, previous, o, mode == "ar", stop)
        cases.append(dict(
            name=name, mode=mode, rows=rows, vocab=vocab, stop=stop, previous=previous, options=o,
            logits=[float("%.9g" % v) for v in logits32.reshape(-1)],
            probs=[float("%.9g" % v) for v in probs.reshape(-1).tolist()],
            argmax=best.tolist(), scores=[float("%.9g" % v) for v in score.tolist()],
            kept=[int(v) for v in (probs > 0).sum(dim=-1).tolist()],
        ))
    with open(args.out, "w") as f:
        json.dump(dict(generator="bench/reference/ecker_sampler_reference.py", seed=args.seed, cases=cases), f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
