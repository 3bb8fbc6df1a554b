#!/usr/bin/env python3
"""Random-weight checkpoint for `valle bench`: tools/make_checkpoint.py, then the EOS row of the AR prediction
layer set to zero.

Why: an untrained model may pick EOS (1024) early, and upstream's lifeiteng loop stops when EOS is the argmax,
so two implementations would time different amounts of work. With that row zero, EOS's logit is exactly 0 while
the maximum over 1024 random codes is far above it: every implementation generates the requested frames and
does the same work as with the unmodified weights (one row of one matrix changes, no shape does).

  make_bench_checkpoint.py --preset small --out /tmp/valle-bench/small.pt [--family valle] [--seed 1234]
"""
import argparse
import pathlib
import subprocess
import sys

import torch

EOS = 1024


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small")
    p.add_argument("--family", default="valle")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--out", required=True, type=pathlib.Path)
    a = p.parse_args(argv)
    maker = pathlib.Path(__file__).resolve().parents[2] / "tools" / "make_checkpoint.py"
    a.out.parent.mkdir(parents=True, exist_ok=True)
    raw = a.out.with_name(a.out.name + ".raw.tmp")
    subprocess.run([sys.executable, str(maker), "--preset", a.preset, "--family", a.family, "--seed", str(a.seed),
                    "--out", str(raw)], check=True)
    ckpt = torch.load(str(raw), map_location="cpu")
    ckpt["model"]["ar_predict_layer.weight"][EOS].zero_()
    tmp = a.out.with_name(a.out.name + ".tmp")
    torch.save(ckpt, str(tmp))
    tmp.replace(a.out)
    raw.unlink()
    print(f"wrote {a.out} (EOS row of ar_predict_layer zeroed)", file=sys.stderr)


if __name__ == "__main__":
    main()
