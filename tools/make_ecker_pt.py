#!/usr/bin/env python3
"""Writes e-c-k-e-r/vall-e checkpoints in upstream's torch forms from an exported .sft, for VallE.NET's tests.

Our own generator (not upstream code). The structures follow what upstream (e-c-k-e-r/vall-e, commit 73833ee) saves:
  - export (vall_e/engines/base.py Engines.export, through vall_e/utils/io.py torch_save with a .pt/.pth path):
      torch.save({"module": state_dict, "stats": {...}, "userdata": {"symmap": ...}, "config": model config dict})
    where the config is Model.__dict__ with "experimental" replaced by its __dict__ -- exactly the dicts the .sft
    metadata holds as JSON (torch_save writes every non-tensor entry there), so they are read back from the .sft.
  - trainer checkpoint (Engine.save_checkpoint): torch.save({"module": state_dict, "stats": {...}}), no config.
The .sft is parsed here without the safetensors package (8-byte header length, JSON header, raw little-endian data).

Usage: make_ecker_pt.py FIXTURE.sft OUT_DIR -> OUT_DIR/{fp32.pt, bf16.pt, f16.pt, path.pt, prefixed.pt, state.pth,
       lora.pt, bare.pt, loraconfig.pt, odd.pt, mismatch.pt}
"""
import json
import pathlib
import struct
import sys
from collections import OrderedDict

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def read_sft(path):
    data = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = OrderedDict()
    # upstream's state_dict order is registration order; the .sft stores names sorted, which is what we can recover.
    for name, info in header.items():
        start, end = info["data_offsets"]
        raw = bytearray(body[start:end])
        t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata


def main(argv):
    sft, out = argv[0], pathlib.Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    sd, meta = read_sft(sft)
    # torch_load parses each metadata value as JSON when it can; the export's dicts come back as dicts.
    extras = {k: json.loads(v) for k, v in meta.items()}
    config, stats, userdata = extras["config"], extras["stats"], extras["userdata"]

    def export(module, **overrides):
        state = {"module": module, "stats": stats, "userdata": userdata, "config": config}
        state.update(overrides)
        return state

    torch.save(export(sd), out / "fp32.pt")
    # `vall_e.export --dtype bfloat16` casts every tensor (module[k] = v.to(dtype)) before saving.
    torch.save(export(OrderedDict((k, v.to(torch.bfloat16)) for k, v in sd.items())), out / "bf16.pt")
    torch.save(export(OrderedDict((k, v.to(torch.float16)) for k, v in sd.items())), out / "f16.pt")
    # A model loaded with --model carries its path in the config (Config.from_model adds "path": Path).
    torch.save(export(sd, config=dict(config, path=pathlib.PosixPath("/models/ar+nar/fp32.sft"))), out / "path.pt")
    # torch.compile / DataParallel wrappers prefix the names.
    torch.save(export(OrderedDict(("_orig_mod." + k, v) for k, v in sd.items())), out / "prefixed.pt")
    # Trainer checkpoint: no config.
    torch.save({"module": sd, "stats": stats}, out / "state.pth")
    # An export made while a LoRA is active keeps the LoRA weights in "lora".
    torch.save(export(sd, lora={"model.layers.0.self_attn.q_proj.parametrizations.weight.0.lora_A": torch.zeros(4, 64)}), out / "lora.pt")
    # A LoRA export (export_lora): "config" is the LoRA's config.
    lora = {"model.layers.0.self_attn.q_proj.parametrizations.weight.0.lora_A": torch.zeros(4, 64)}
    torch.save({"module": lora, "config": {"name": "lora", "rank": 4, "alpha": 4, "training": False}}, out / "loraconfig.pt")
    # Values JSON has no form for, in the config and userdata: they must load (config) or be carried as null.
    odd = dict(config, loss_factors={"text": float("inf"), 3: float("nan")}, kwargs={"shape": (1, 2)})
    torch.save(export(sd, config=odd, userdata=dict(userdata, probe=torch.zeros(2))), out / "odd.pt")
    # A config that does not describe the tensors: a layout error, not a crash.
    torch.save(export(sd, config=dict(config, size=dict(config["size"], dim=128))), out / "mismatch.pt")
    # torch.save(model.state_dict()): tensors only.
    torch.save(sd, out / "bare.pt")


if __name__ == "__main__":
    main(sys.argv[1:])
