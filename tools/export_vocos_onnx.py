#!/usr/bin/env python3
"""Export Vocos for EnCodec 24 kHz codes (charactr/vocos-encodec-24khz) as an ONNX decoder with EnCodec's contract.

    export_vocos_onnx.py --out DIR --checkpoint pytorch_model.bin [--config config.yaml]   # the real weights
    export_vocos_onnx.py --out DIR [--seed N]                                  # seeded random weights (tests)

The real weights: the two files of https://huggingface.co/charactr/vocos-encodec-24khz, e.g. on a machine with
internet access `huggingface-cli download charactr/vocos-encodec-24khz pytorch_model.bin config.yaml --local-dir
vocos-encodec-24khz`. `pytorch_model.bin` is a plain state dict (feature_extractor.codebook_weights [16384, 128],
backbone.*, head.out.*, head.istft.window); `config.yaml` is optional and only checked against the architecture
this script builds (tools/vocos_arch.py: dim 384, 8 ConvNeXt layers, n_fft 1280, hop 320, "same" padding).

Writes DIR/vocos_decoder.onnx   codes int64 [B, 8, T] -> audio float32 [B, 1, 320 T], bandwidth id 2 (6 kbps)
                                fixed, opset 17, dynamic batch and length; metadata valle.vocoder = "vocos"
       DIR/reference/           codes_T{T}.npy and PyTorch's decoded_T{T}.npy for T in --reference-frames
       DIR/export.json          what was exported.
The reference outputs come from the model as defined (torch.fft.irfft, fold, window envelope); the graph computes
the inverse STFT with a DFT basis and ConvTranspose1d, and is checked against the reference here before writing.
"""
import argparse
import json
import os
import re
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vocos_arch as arch  # noqa: E402

# config.yaml values this architecture assumes (vocos-encodec-24khz).
EXPECTED_CONFIG = {"input_channels": 128, "dim": 384, "intermediate_dim": 1152, "num_layers": 8,
                   "adanorm_num_embeddings": 4, "n_fft": 1280, "hop_length": 320, "padding": "same",
                   "encodec_model": "encodec_24khz"}


def check_config(path):
    """A line-based look at config.yaml (no YAML dependency): each expected key, where present, must match."""
    text = open(path, encoding="utf-8").read()
    for key, want in EXPECTED_CONFIG.items():
        m = re.search(rf"^\s*{key}\s*:\s*([^\s#]+)", text, re.MULTILINE)
        if m is None:
            continue
        got = m.group(1).strip("'\"")
        if str(got) != str(want):
            sys.exit(f"export_vocos_onnx.py: {path}: {key} is {got}, this exporter builds {want} "
                     "(it supports charactr/vocos-encodec-24khz only)")
    if "ISTFTHead" not in text or "EncodecFeatures" not in text:
        sys.exit(f"export_vocos_onnx.py: {path}: not an EncodecFeatures + ISTFTHead Vocos config")


def load_checkpoint(model, path):
    sd = torch.load(path, map_location="cpu")
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
        sd = sd["state_dict"]
    # The EnCodec model inside the feature extractor (only needed to encode audio) is not part of the decoder.
    sd = {k: v for k, v in sd.items() if not k.startswith("feature_extractor.encodec.")}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        sys.exit(f"export_vocos_onnx.py: {path} does not match vocos-encodec-24khz: missing {missing[:5]}, "
                 f"unexpected {unexpected[:5]}")


def build(args):
    torch.manual_seed(args.seed)
    model = arch.Vocos().eval()
    if args.checkpoint:
        if args.config:
            check_config(args.config)
        load_checkpoint(model, args.checkpoint)
        return model, f"checkpoint {os.path.basename(args.checkpoint)}"
    arch.randomize(model, args.seed)
    return model, f"random (seed {args.seed}) - UNTRAINED, produces noise-like audio"


def export(graph, path, opset, source):
    codes = torch.zeros(1, arch.N_Q, 9, dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (codes,), path + ".tmp", input_names=["codes"], output_names=["audio"],
                          dynamic_axes={"codes": {0: "batch", 2: "frames"}, "audio": {0: "batch", 2: "samples"}},
                          opset_version=opset, do_constant_folding=True)
    import onnx
    m = onnx.load(path + ".tmp")
    for key, value in {"valle.vocoder": "vocos", "valle.vocos.model": "charactr/vocos-encodec-24khz",
                       "valle.vocos.bandwidth_id": str(arch.BANDWIDTH_ID), "valle.weights": source}.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(m)
    onnx.save(m, path + ".tmp")
    os.replace(path + ".tmp", path)


def reference_codes(t, seed):
    g = torch.Generator().manual_seed(seed * 7919 + t)
    return torch.randint(0, arch.CODEBOOK_SIZE, (1, arch.N_Q, t), generator=g, dtype=torch.long)


def write_references(model, graph, out, frames, seed):
    """Saves PyTorch's reference outputs and checks the exportable graph against them (in PyTorch)."""
    ref = os.path.join(out, "reference")
    os.makedirs(ref, exist_ok=True)
    worst = 0.0
    for t in frames:
        codes = reference_codes(t, seed)
        with torch.no_grad():
            expected = model(codes)
            got = graph(codes)
        assert expected.shape == (1, 1, arch.HOP_LENGTH * t), expected.shape
        diff = float((got - expected).abs().max())
        peak = float(expected.abs().max())
        worst = max(worst, diff)
        print(f"T={t}: peak {peak:.3f}, graph (DFT basis + ConvTranspose) vs irfft/fold max |diff| {diff:.2e}")
        if diff > 1e-4 * max(1.0, peak):
            sys.exit(f"export_vocos_onnx.py: the exportable graph disagrees with the reference at T={t}")
        np.save(os.path.join(ref, f"codes_T{t}.npy"), codes.numpy())
        np.save(os.path.join(ref, f"decoded_T{t}.npy"), expected.numpy())
    return worst


def check_with_onnxruntime(out, frames):
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime (Python) not installed: graph not run here; the C# tests (VocosTests) run it through "
              "VallE.NET against reference/")
        return
    sess = ort.InferenceSession(os.path.join(out, "vocos_decoder.onnx"), providers=["CPUExecutionProvider"])
    for t in frames:
        codes = np.load(os.path.join(out, "reference", f"codes_T{t}.npy"))
        expected = np.load(os.path.join(out, "reference", f"decoded_T{t}.npy"))
        diff = float(np.abs(sess.run(None, {"codes": codes})[0] - expected).max())
        print(f"T={t}: ONNX Runtime vs PyTorch max |diff| {diff:.2e}")
        if diff > 1e-4 * max(1.0, float(np.abs(expected).max())):
            sys.exit(f"export_vocos_onnx.py: ONNX Runtime disagrees with PyTorch at T={t}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--checkpoint", help="pytorch_model.bin of charactr/vocos-encodec-24khz (else random weights)")
    ap.add_argument("--config", help="its config.yaml (optional; checked against the architecture)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random weights and reference codes")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--reference-frames", default="1,2,7,75,300",
                    help="comma-separated frame counts to save PyTorch references for; '' for none")
    args = ap.parse_args()
    if args.config and not args.checkpoint:
        ap.error("--config goes with --checkpoint")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    os.makedirs(args.out, exist_ok=True)
    model, source = build(args)
    graph = arch.DecoderGraph(model).eval()
    frames = [int(x) for x in args.reference_frames.split(",") if x.strip()]
    worst = write_references(model, graph, args.out, frames, args.seed) if frames else None
    export(graph, os.path.join(args.out, "vocos_decoder.onnx"), args.opset, source)
    if frames:
        check_with_onnxruntime(args.out, frames)
    meta = {"vocoder": "vocos", "model": "charactr/vocos-encodec-24khz", "weights": source,
            "bandwidth_id": arch.BANDWIDTH_ID, "n_q": arch.N_Q, "sample_rate": arch.SAMPLE_RATE,
            "hop_length": arch.HOP_LENGTH, "n_fft": arch.N_FFT, "istft_padding": "same", "opset": args.opset,
            "torch": torch.__version__, "reference_frames": frames, "graph_vs_reference_max_abs": worst,
            "decoder": "codes int64 [B,8,T] -> audio float32 [B,1,320T]"}
    with open(os.path.join(args.out, "export.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"exported Vocos encodec-24khz ({source}) to {args.out}")


if __name__ == "__main__":
    main()
