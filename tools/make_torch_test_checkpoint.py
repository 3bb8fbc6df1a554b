#!/usr/bin/env python3
"""Writes small torch.save checkpoints that exercise the C# reader, plus a JSON manifest of what torch sees.

Covers every dtype the reader maps (f32 f16 bf16 f64 i64 i32 i16 i8 u8 bool), non-contiguous views (transposed,
column slices, stride-0 expand), storage offsets (row slices), shared storages (several views of one tensor,
a tied nn.Parameter), 0-dim and empty tensors, and plain Python values around them. The manifest is written by
torch itself, so the test compares against the reference implementation, not against our own reading.

Usage: make_torch_test_checkpoint.py OUT_DIR      -> OUT_DIR/{p2,p4}.pt and OUT_DIR/manifest.json
"""
import json
import math
import os
import pathlib
import sys
from collections import OrderedDict

import torch


def build():
    g = torch.Generator().manual_seed(1234)
    base = torch.randn(3, 4, generator=g)
    big = torch.arange(100, dtype=torch.int64)
    param = torch.nn.Parameter(torch.randn(2, 3, generator=g))
    tensors = OrderedDict()
    tensors["base"] = base
    tensors["base_t"] = base.t()                 # strides (1, 4): transposed view of the same storage
    tensors["rows_1_3"] = base[1:]               # storage offset 4
    tensors["cols_1_3"] = base[:, 1:3]           # offset 1, strides (4, 1)
    tensors["every_other"] = base[:, ::2]        # strides (4, 2)
    tensors["f16"] = torch.randn(5, generator=g).half()
    tensors["bf16"] = torch.randn(2, 3, generator=g).bfloat16()
    tensors["f64"] = torch.randn(4, generator=g).double()
    tensors["i64_slice"] = big[10:20]            # offset 10 into a 100-element storage
    tensors["i32"] = torch.tensor([-7, 0, 2**31 - 1], dtype=torch.int32)
    tensors["i16"] = torch.tensor([[-300, 5], [7, 32767]], dtype=torch.int16)
    tensors["i8"] = torch.tensor([-128, 127, 3], dtype=torch.int8)
    tensors["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    tensors["bool"] = torch.tensor([True, False, True])
    tensors["scalar"] = torch.tensor(2.5)
    tensors["empty"] = torch.zeros(0, 3)
    tensors["expanded"] = torch.arange(3, dtype=torch.float32).expand(2, 3)  # stride 0
    tensors["param"] = param
    tensors["param_tied"] = param                # same Parameter twice: one storage
    root = {
        "state_dict": tensors,
        "list": [1, -2, 2**70, -(2**65), 3.5, float("inf"), None, True, "ünïcode", b"\x00\xffbytes"],
        "tuple": (1, ("nested", [tensors["f16"]])),
        "set": {7},
        "path": pathlib.PurePosixPath("runs/x"),
    }
    return root, tensors


def describe(tensors):
    out = OrderedDict()
    groups = {}
    for name, t in tensors.items():
        t = t.detach()
        values = t.reshape(-1).double().tolist() if t.numel() else []
        out[name] = {
            "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "stride": list(t.stride()),
            "offset": t.storage_offset(),
            "values": [v if math.isfinite(v) else str(v) for v in values],
        }
        groups.setdefault(t.storage().data_ptr(), []).append(name)
    return {"tensors": out, "shared": [names for names in groups.values() if len(names) > 1]}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    root, tensors = build()
    torch.save(root, out / "p2.pt")
    torch.save(root, out / "p4.pt", pickle_protocol=4)
    with open(out / "manifest.json", "w") as f:
        json.dump(describe(tensors), f, indent=1)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
