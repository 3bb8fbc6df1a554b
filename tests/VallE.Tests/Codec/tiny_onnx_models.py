#!/usr/bin/env python3
"""Tiny ONNX models for the codec and ONNX Runtime tests (written with the `onnx` package only; no torch).

    tiny_onnx_models.py --out DIR

conv_decoder.onnx  codes int64 [B, 8, T] -> audio float32 [B, 1, 320 T]; a 5-tap convolution over frames, so each
                   frame's audio depends on frames t-2 .. t+2 only: chunked decoding with >= 2 frames of context
                   beyond the crossfade must equal one run exactly.
conv_encoder.onnx  audio float32 [B, 1, N] -> codes int64 [B, 8, N/320]; the same 5-frame receptive field.
                   Both use small integer weights (and the encoder expects audio in steps of 1/64), so every sum is
                   an integer (or a multiple of 1/64) far below 2^24: float32 computes it exactly in any order, and
                   runs over different lengths (which ONNX Runtime may block differently) agree bit for bit.
nan_decoder.onnx   codes -> audio, sqrt((code0 - 512) / 512) repeated over the frame's 320 samples: NaN for every
                   sample of a frame whose first code is below 512.
slow.onnx          x float32 [N, 512] -> y, 400 x (MatMul 512x512, Tanh): seconds for N = 256, instant for N = 1.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HOP = 320


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="valle-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def codes_input():
    return helper.make_tensor_value_info("codes", TensorProto.INT64, ["batch", 8, "frames"])


def audio_output():
    return helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["batch", 1, "samples"])


def conv_decoder(rng):
    nodes = [
        helper.make_node("Cast", ["codes"], ["c"], to=TensorProto.FLOAT),
        helper.make_node("Conv", ["c", "w", "b"], ["h"], pads=[2, 2]),      # [B, 16, T], |h| < 2^17
        helper.make_node("Transpose", ["h"], ["ht"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["ht", "p"], ["z"]),                       # [B, T, 320], |z| < 2^22
        helper.make_node("Mul", ["z", "scale"], ["s"]),                       # a power of two: exact
        helper.make_node("Reshape", ["s", "shape"], ["audio"]),
    ]
    inits = [const("w", rng.integers(-2, 3, (16, 8, 5)).astype(np.float32)),
             const("b", rng.integers(-50, 51, 16).astype(np.float32)),
             const("p", rng.integers(-2, 3, (16, HOP)).astype(np.float32)),
             const("scale", np.float32(2.0 ** -21)),
             const("shape", np.array([0, 1, -1], dtype=np.int64))]
    return helper.make_graph(nodes, "conv_decoder", [codes_input()], [audio_output()], inits)


def conv_encoder(rng):
    nodes = [
        helper.make_node("Reshape", ["audio", "frames_shape"], ["f"]),          # [B, T, 320]
        helper.make_node("Transpose", ["f"], ["ft"], perm=[0, 2, 1]),         # [B, 320, T]
        helper.make_node("Conv", ["ft", "w"], ["h"], pads=[2, 2]),            # [B, 8, T], multiples of 1/64
        helper.make_node("Abs", ["h"], ["a"]),
        helper.make_node("Mul", ["a", "gain"], ["g"]),                        # integers
        helper.make_node("Cast", ["g"], ["i"], to=TensorProto.INT64),
        helper.make_node("Mod", ["i", "codebook"], ["codes"]),
    ]
    inits = [const("frames_shape", np.array([0, -1, HOP], dtype=np.int64)),
             const("w", rng.integers(-3, 4, (8, HOP, 5)).astype(np.float32)),
             const("gain", np.float32(64)), const("codebook", np.int64(1024))]
    audio = helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["batch", 1, "samples"])
    codes = helper.make_tensor_value_info("codes", TensorProto.INT64, ["batch", 8, "frames"])
    return helper.make_graph(nodes, "conv_encoder", [audio], [codes], inits)


def nan_decoder():
    nodes = [
        helper.make_node("Slice", ["codes", "zero", "one", "one"], ["c0"]),   # [B, 1, T]
        helper.make_node("Cast", ["c0"], ["c"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["c", "mid"], ["d"]),
        helper.make_node("Div", ["d", "mid"], ["r"]),
        helper.make_node("Sqrt", ["r"], ["s"]),                              # NaN below 512
        helper.make_node("Transpose", ["s"], ["st"], perm=[0, 2, 1]),         # [B, T, 1]
        helper.make_node("Mul", ["st", "ones"], ["z"]),                       # [B, T, 320]
        helper.make_node("Reshape", ["z", "shape"], ["audio"]),
    ]
    inits = [const("zero", np.array([0], dtype=np.int64)), const("one", np.array([1], dtype=np.int64)),
             const("mid", np.float32(512)), const("ones", np.ones(HOP, dtype=np.float32)),
             const("shape", np.array([0, 1, -1], dtype=np.int64))]
    return helper.make_graph(nodes, "nan_decoder", [codes_input()], [audio_output()], inits)


def slow(rng, layers=400, width=512):
    nodes, prev = [], "x"
    for i in range(layers):
        nodes += [helper.make_node("MatMul", [prev, "w"], [f"m{i}"]), helper.make_node("Tanh", [f"m{i}"], [f"t{i}"])]
        prev = f"t{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    w = const("w", rng.standard_normal((width, width)).astype(np.float32) / np.sqrt(width))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", width])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", width])
    return helper.make_graph(nodes, "slow", [x], [y], [w])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    save(conv_decoder(rng), os.path.join(args.out, "conv_decoder.onnx"))
    save(conv_encoder(rng), os.path.join(args.out, "conv_encoder.onnx"))
    save(nan_decoder(), os.path.join(args.out, "nan_decoder.onnx"))
    save(slow(rng), os.path.join(args.out, "slow.onnx"))
    print(f"wrote 4 models to {args.out}")


if __name__ == "__main__":
    main()
