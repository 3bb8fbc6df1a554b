#!/usr/bin/env python3
"""Export EnCodec 24 kHz (6 kbps, 8 codebooks) as two ONNX models with dynamic lengths.

    export_encodec_onnx.py --out DIR                                  # real weights via the `encodec` pip package
    export_encodec_onnx.py --out DIR --checkpoint encodec_24khz-d7cc33bc.th   # real weights from a local file
    export_encodec_onnx.py --out DIR --random-weights --seed 0        # untrained, for tests and demos (no download)

Writes DIR/encodec_encoder.onnx   audio float32 [B, 1, N] (N a multiple of 320) -> codes int64 [B, 8, N/320]
       DIR/encodec_decoder.onnx   codes int64 [B, 8, T] -> audio float32 [B, 1, 320*T]
       DIR/reference/             PyTorch outputs at several lengths (.npy) for checking an ONNX runtime against:
                                  audio_T{T}.npy, codes_T{T}.npy (encoder of that audio), decoded_T{T}.npy
                                  (decoder of those codes), for T in --reference-frames.
       DIR/export.json            what was exported (weights source, opset, lengths checked).
The architecture is tools/encodec_arch.py (its state-dict names equal the `encodec` package's); see its
docstring for why the export does not trace the package's own modules.
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encodec_arch as arch  # noqa: E402

N_Q = 8


def load_state_dict(args):
    if args.random_weights:
        return None, f"random (seed {args.seed}) - UNTRAINED, produces noise-like audio"
    if args.checkpoint:
        sd = torch.load(args.checkpoint, map_location="cpu")
        if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
            sd = sd["state_dict"]
        return sd, f"checkpoint {os.path.basename(args.checkpoint)}"
    try:
        from encodec import EncodecModel  # the real package, if installed (pip install encodec)
    except ImportError:
        sys.exit("export_encodec_onnx.py: the `encodec` package is not installed; pass --checkpoint FILE "
                 "(encodec_24khz-d7cc33bc.th from https://dl.fbaipublicfiles.com/encodec/v0/) or --random-weights")
    return EncodecModel.encodec_model_24khz().state_dict(), "encodec package (encodec_24khz, pretrained)"


def build(args):
    torch.manual_seed(args.seed)
    model = arch.EncodecModel24k().eval()
    sd, source = load_state_dict(args)
    if sd is None:
        arch.randomize(model, args.seed)
    else:
        missing, unexpected = model.load_state_dict(sd, strict=False)
        if missing or unexpected:
            sys.exit(f"export_encodec_onnx.py: state dict does not match EnCodec 24 kHz: missing {missing[:5]}, "
                     f"unexpected {unexpected[:5]}")
    model.remove_weight_norm()
    return model, source


def export(model, out, opset):
    enc = arch.EncoderGraph(model, N_Q).eval()
    dec = arch.DecoderGraph(model).eval()
    # Trace at a length that exercises no special case; the graphs hold no length-dependent constant.
    audio = torch.zeros(1, 1, arch.HOP_LENGTH * 9)
    codes = torch.zeros(1, N_Q, 9, dtype=torch.long)
    enc_path, dec_path = os.path.join(out, "encodec_encoder.onnx"), os.path.join(out, "encodec_decoder.onnx")
    # torch 1.13's exporter warns about its own shape inference on every LSTM; nothing actionable for users.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(enc, (audio,), enc_path + ".tmp", input_names=["audio"], output_names=["codes"],
                          dynamic_axes={"audio": {0: "batch", 2: "samples"}, "codes": {0: "batch", 2: "frames"}},
                          opset_version=opset, do_constant_folding=True)
        torch.onnx.export(dec, (codes,), dec_path + ".tmp", input_names=["codes"], output_names=["audio"],
                          dynamic_axes={"codes": {0: "batch", 2: "frames"}, "audio": {0: "batch", 2: "samples"}},
                          opset_version=opset, do_constant_folding=True)
    for p in (enc_path, dec_path):
        import onnx
        onnx.checker.check_model(p + ".tmp")
        os.replace(p + ".tmp", p)
    return enc, dec


def write_references(enc, dec, out, frames, seed):
    ref = os.path.join(out, "reference")
    os.makedirs(ref, exist_ok=True)
    g = torch.Generator().manual_seed(seed + 1)
    for t in frames:
        n = t * arch.HOP_LENGTH
        # A chirp plus noise: broadband, deterministic, in [-1, 1].
        time = torch.arange(n, dtype=torch.float64) / arch.SAMPLE_RATE
        chirp = 0.3 * torch.sin(2 * np.pi * (200 + 2000 * time) * time)
        audio = (chirp + 0.05 * torch.randn(n, generator=g, dtype=torch.float64)).float().view(1, 1, n)
        with torch.no_grad():
            codes = enc(audio)
            decoded = dec(codes)
        np.save(os.path.join(ref, f"audio_T{t}.npy"), audio.numpy())
        np.save(os.path.join(ref, f"codes_T{t}.npy"), codes.numpy().astype(np.int64))
        np.save(os.path.join(ref, f"decoded_T{t}.npy"), decoded.numpy())


def check_with_onnxruntime(out, frames):
    """When the Python onnxruntime package is present, run both graphs on the references and compare."""
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime (Python) not installed: graphs not checked here; the C# tests run them through "
              "VallE.NET's own binding against reference/")
        return
    enc = ort.InferenceSession(os.path.join(out, "encodec_encoder.onnx"), providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(os.path.join(out, "encodec_decoder.onnx"), providers=["CPUExecutionProvider"])
    ref = os.path.join(out, "reference")
    for t in frames:
        audio = np.load(os.path.join(ref, f"audio_T{t}.npy"))
        codes = np.load(os.path.join(ref, f"codes_T{t}.npy"))
        decoded = np.load(os.path.join(ref, f"decoded_T{t}.npy"))
        got_codes = enc.run(None, {"audio": audio})[0]
        got_audio = dec.run(None, {"codes": codes})[0]
        same = float((got_codes == codes).mean())
        diff = float(np.abs(got_audio - decoded).max())
        print(f"T={t}: encoder codes equal to PyTorch {same:.2%}, decoder max |diff| {diff:.2e}")
        if same < 0.99 or diff > 1e-3 * max(1.0, float(np.abs(decoded).max())):
            sys.exit(f"export_encodec_onnx.py: ONNX Runtime disagrees with PyTorch at T={t}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--checkpoint", help="EnCodec 24 kHz state dict (encodec_24khz-d7cc33bc.th)")
    ap.add_argument("--random-weights", action="store_true", help="seeded random weights (untrained)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--reference-frames", default="1,5,7,23,75",
                    help="comma-separated frame counts (x320 samples) to save PyTorch references for; '' for none")
    args = ap.parse_args()
    if args.random_weights and args.checkpoint:
        ap.error("--random-weights and --checkpoint exclude each other")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    os.makedirs(args.out, exist_ok=True)
    model, source = build(args)
    enc, dec = export(model, args.out, args.opset)
    frames = [int(x) for x in args.reference_frames.split(",") if x.strip()]
    write_references(enc, dec, args.out, frames, args.seed)
    if frames:
        check_with_onnxruntime(args.out, frames)
    meta = {"weights": source, "sample_rate": arch.SAMPLE_RATE, "hop_length": arch.HOP_LENGTH, "n_q": N_Q,
            "opset": args.opset, "torch": torch.__version__, "reference_frames": frames,
            "encoder": "audio float32 [B,1,N] -> codes int64 [B,8,N/320]",
            "decoder": "codes int64 [B,8,T] -> audio float32 [B,1,320T]"}
    with open(os.path.join(args.out, "export.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"exported EnCodec 24 kHz ({source}) to {args.out}")


if __name__ == "__main__":
    main()
