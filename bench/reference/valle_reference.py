#!/usr/bin/env python3
"""PyTorch reference for VallE.NET: upstream's VALL-E inference algorithm and a KV-cached variant.

  valle_reference.py check FIXTURE_DIR
      Runs both variants with top_k=1 on a shared fixture folder (checkpoint.pt, text_tokens.npy,
      prompt_codes.npy, meta.json) and compares with expected_codes.npy (exact) and the AR logits.
      Exit 0 when both reproduce the fixture, 1 otherwise. Prints one JSON object.

  valle_reference.py run --checkpoint CKPT [--config meta.json] [--text-tokens T.npy --prompt-codes P.npy |
                         --text-len 60 --prompt-frames 225] [--frames 150] [--variant upstream|cached|both] ...
      Times generation; --frames N forces exactly N AR frames (EOS masked) so runs are comparable.
      Prints one JSON object per variant (one line each): frames, ar_steps, ar_ms, nar_ms, total_ms, ...

Torch: Debian's python3-torch (1.13, CPU, OpenBLAS). Use /usr/bin/python3; set OMP_NUM_THREADS or --threads.
"""
import argparse
import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import refinfer  # noqa: E402
import refmodel  # noqa: E402


def flavor_of(model):
    return "vallex" if model.cfg.languages else "lifeiteng"


def check(args):
    folder = pathlib.Path(args.fixture)
    meta = json.loads((folder / "meta.json").read_text())
    model = refmodel.build(folder / "checkpoint.pt", meta["constructor"])
    text = torch.from_numpy(np.load(folder / "text_tokens.npy")).long().unsqueeze(0)
    prompts = torch.from_numpy(np.load(folder / "prompt_codes.npy")).long().unsqueeze(0)
    expected = np.load(folder / "expected_codes.npy")
    expected_logits = np.load(folder / "expected_ar_logits.npy")
    languages = (meta.get("prompt_language", "en"), meta.get("text_language", "en"))
    report = {"fixture": folder.name, "flavor": flavor_of(model), "ok": True}
    codes_by_variant = {}
    for variant in ("upstream", "cached"):
        ar_logits = []
        codes, timing = refinfer.generate(model, text, prompts, meta["enroll_x_lens"], languages, top_k=1,
                                          flavor=flavor_of(model), cached=variant == "cached", ar_logits=ar_logits)
        got = codes[0].numpy()
        same = got.shape == expected.shape and bool((got == expected).all())
        logits = torch.stack(ar_logits).numpy()
        logit_err = (float(np.abs(logits - expected_logits).max() / np.abs(expected_logits).max())
                     if logits.shape == expected_logits.shape else None)
        per_codebook = ((got != expected).sum(axis=0).tolist() if got.shape == expected.shape else None)
        report[variant] = {"codes_equal": same, "shape": list(got.shape), "expected_shape": list(expected.shape),
                           "mismatches_per_codebook": per_codebook, "ar_logits_max_rel_err": logit_err,
                           "total_ms": round(timing["total_ms"], 1)}
        codes_by_variant[variant] = got
        report["ok"] &= same
    report["variants_agree"] = bool(codes_by_variant["upstream"].shape == codes_by_variant["cached"].shape
                                    and (codes_by_variant["upstream"] == codes_by_variant["cached"]).all())
    print(json.dumps(report))
    return 0 if report["ok"] else 1


def run(args):
    hparams = refmodel.read_hparams(args.config) if args.config else {}
    for item in args.set:
        key, _, value = item.partition("=")
        hparams[key] = json.loads(value.lower()) if value.lower() in ("true", "false") else json.loads(value)
    model = refmodel.build(args.checkpoint, hparams)
    gen = torch.Generator().manual_seed(args.input_seed)
    if args.text_tokens:
        text = torch.from_numpy(np.load(args.text_tokens)).long().reshape(1, -1)
    else:
        text = torch.randint(3, model.cfg.text_vocab, (1, args.text_len), generator=gen)
    if args.prompt_codes:
        prompts = torch.from_numpy(np.load(args.prompt_codes)).long().reshape(1, -1, model.cfg.num_quantizers)
    else:
        prompts = torch.randint(0, refmodel.NUM_AUDIO_TOKENS, (1, args.prompt_frames, model.cfg.num_quantizers),
                                generator=gen)
    enroll = args.enroll_len if args.enroll_len is not None else text.shape[1] // 2
    variants = ["upstream", "cached"] if args.variant == "both" else [args.variant]
    for variant in variants:
        torch.manual_seed(args.seed)
        codes, timing = refinfer.generate(model, text, prompts, enroll, tuple(args.languages), args.top_k,
                                          args.top_p, args.temperature, flavor_of(model), variant == "cached",
                                          args.frames)
        timing.update(variant=variant, threads=torch.get_num_threads(), text_len=text.shape[1],
                      prompt_frames=prompts.shape[1], torch=torch.__version__)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in timing.items()}), flush=True)
        if args.out:
            out = pathlib.Path(args.out.replace("{variant}", variant))
            tmp = out.with_name(out.name + ".tmp.npy")
            np.save(tmp, codes[0].numpy().astype(np.int64))
            tmp.replace(out)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's, i.e. OMP_NUM_THREADS)")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="reproduce a shared fixture with both variants")
    c.add_argument("fixture")
    r = sub.add_parser("run", help="generate and time")
    r.add_argument("--checkpoint", required=True)
    r.add_argument("--config", help="JSON of hyper-parameters (icefall names; a fixture's meta.json works)")
    r.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="hyper-parameter by its icefall name, e.g. nhead=16 prefix_mode=1 (repeatable)")
    r.add_argument("--text-tokens")
    r.add_argument("--prompt-codes")
    r.add_argument("--text-len", type=int, default=60)
    r.add_argument("--prompt-frames", type=int, default=225)
    r.add_argument("--input-seed", type=int, default=0, help="seed of the random text/prompt when not given")
    r.add_argument("--enroll-len", type=int, help="prompt-transcript tokens (default: half the text)")
    r.add_argument("--languages", nargs=2, default=["en", "en"], metavar=("PROMPT", "TEXT"))
    r.add_argument("--frames", type=int, help="force exactly N AR frames (EOS masked): for timing")
    r.add_argument("--variant", choices=["upstream", "cached", "both"], default="both")
    r.add_argument("--top-k", type=int, default=1)
    r.add_argument("--top-p", type=float, default=1.0)
    r.add_argument("--temperature", type=float, default=1.0)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", help="write codes [T, Q] int64 .npy here ('{variant}' is replaced)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    return check(args) if args.command == "check" else run(args)


if __name__ == "__main__":
    sys.exit(main())
