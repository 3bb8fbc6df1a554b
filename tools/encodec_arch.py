"""EnCodec 24 kHz (SEANet encoder/decoder + residual vector quantizer), written for export to ONNX.

This is an independent implementation of the architecture of Meta's `encodec_24khz` model: causal SEANet with
weight-normalised convolutions, ratios [8, 5, 4, 2], 32 base filters, one residual block per stage (kernel 3,
compress 2), a 2-layer LSTM with skip connection, ELU activations, reflect padding, 128-dim latent and a
32-codebook RVQ of 1024 x 128 entries. Parameter and buffer names equal those of the `encodec` package, so the
real state dict (`encodec_24khz-d7cc33bc.th`) loads with `load_state_dict(strict=True)`.

Why not trace the package's modules directly: their padding helpers compute pad sizes from the input length in
Python, so a trace bakes the traced length into the graph. Here every pad size is a function of kernel, stride and
dilation only; for inputs that are a multiple of the hop length (320) that is exactly what the package computes
(its "extra padding" is then always 0), and the one length-dependent case of the package (reflect padding of an
input shorter than the pad) is reproduced in-graph by zero-extending before reflecting.
"""
import math

import torch
from torch import nn
from torch.nn.utils import weight_norm, remove_weight_norm

SAMPLE_RATE = 24000
HOP_LENGTH = 320
DIMENSION = 128
CODEBOOK_SIZE = 1024
TOTAL_CODEBOOKS = 32          # 24 kbps; VALL-E uses the first 8 (6 kbps)
RATIOS = [8, 5, 4, 2]
N_FILTERS = 32


class CausalConv1d(nn.Module):
    """SConv1d(causal=True, norm='weight_norm', pad_mode='reflect'): state-dict names `conv.conv.weight_{g,v}`."""

    def __init__(self, cin, cout, kernel, stride=1, dilation=1):
        super().__init__()
        self.conv = _NormWrap(weight_norm(nn.Conv1d(cin, cout, kernel, stride=stride, dilation=dilation)))
        self.pad = (kernel - 1) * dilation + 1 - stride
        # Indices of the reflected left margin: x[pad], x[pad-1], ..., x[1].
        self.register_buffer("reflect_index", torch.arange(self.pad, 0, -1, dtype=torch.long), persistent=False)

    def forward(self, x):
        if self.pad > 0:
            # Zero-extend first so that inputs shorter than the pad reflect zeros, as encodec's pad1d does.
            ext = nn.functional.pad(x, (0, self.pad))
            left = torch.index_select(ext, 2, self.reflect_index)
            x = torch.cat([left, x], dim=2)
        return self.conv.conv(x)


class CausalConvTranspose1d(nn.Module):
    """SConvTranspose1d(causal=True, trim_right_ratio=1): names `convtr.convtr.weight_{g,v}`."""

    def __init__(self, cin, cout, kernel, stride):
        super().__init__()
        self.convtr = _NormWrap(weight_norm(nn.ConvTranspose1d(cin, cout, kernel, stride=stride)), attr="convtr")
        self.trim = kernel - stride

    def forward(self, x):
        y = self.convtr.convtr(x)
        return y[..., : -self.trim] if self.trim > 0 else y


class _NormWrap(nn.Module):
    """Stands for NormConv1d / NormConvTranspose1d (their `norm` is Identity for weight_norm)."""

    def __init__(self, module, attr="conv"):
        super().__init__()
        setattr(self, attr, module)
        self.norm = nn.Identity()


class ResnetBlock(nn.Module):
    """SEANetResnetBlock: ELU, conv k3 (dim -> dim/2), ELU, conv k1 (dim/2 -> dim); 1x1 conv shortcut."""

    def __init__(self, dim, dilation=1):
        super().__init__()
        hidden = dim // 2
        self.block = nn.Sequential(
            nn.ELU(alpha=1.0), CausalConv1d(dim, hidden, 3, dilation=dilation),
            nn.ELU(alpha=1.0), CausalConv1d(hidden, dim, 1))
        self.shortcut = CausalConv1d(dim, dim, 1)

    def forward(self, x):
        return self.shortcut(x) + self.block(x)


class SLSTM(nn.Module):
    def __init__(self, dim, num_layers=2):
        super().__init__()
        self.lstm = nn.LSTM(dim, dim, num_layers)

    def forward(self, x):
        x = x.permute(2, 0, 1)
        y, _ = self.lstm(x)
        return (y + x).permute(1, 2, 0)


class SEANetEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        mult = 1
        layers = [CausalConv1d(1, N_FILTERS, 7)]
        for ratio in reversed(RATIOS):
            layers += [ResnetBlock(mult * N_FILTERS), nn.ELU(alpha=1.0),
                       CausalConv1d(mult * N_FILTERS, mult * N_FILTERS * 2, ratio * 2, stride=ratio)]
            mult *= 2
        layers += [SLSTM(mult * N_FILTERS), nn.ELU(alpha=1.0), CausalConv1d(mult * N_FILTERS, DIMENSION, 7)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class SEANetDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        mult = 2 ** len(RATIOS)
        layers = [CausalConv1d(DIMENSION, mult * N_FILTERS, 7), SLSTM(mult * N_FILTERS)]
        for ratio in RATIOS:
            layers += [nn.ELU(alpha=1.0), CausalConvTranspose1d(mult * N_FILTERS, mult * N_FILTERS // 2, ratio * 2, ratio),
                       ResnetBlock(mult * N_FILTERS // 2)]
            mult //= 2
        layers += [nn.ELU(alpha=1.0), CausalConv1d(N_FILTERS, 1, 7)]
        self.model = nn.Sequential(*layers)

    def forward(self, z):
        return self.model(z)


class Codebook(nn.Module):
    """EuclideanCodebook's buffers (`inited`, `cluster_size`, `embed`, `embed_avg`); inference uses `embed` only."""

    def __init__(self):
        super().__init__()
        self.register_buffer("inited", torch.Tensor([True]))
        self.register_buffer("cluster_size", torch.zeros(CODEBOOK_SIZE))
        self.register_buffer("embed", torch.zeros(CODEBOOK_SIZE, DIMENSION))
        self.register_buffer("embed_avg", torch.zeros(CODEBOOK_SIZE, DIMENSION))


class VQLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self._codebook = Codebook()


class _VQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([VQLayer() for _ in range(TOTAL_CODEBOOKS)])


class ResidualVectorQuantizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.vq = _VQ()

    def encode(self, z, n_q):
        """z [B, D, T] -> codes [B, n_q, T]: nearest codeword (Euclidean) of the residual, layer by layer."""
        residual = z.transpose(1, 2)                     # [B, T, D]
        codes = []
        for layer in self.vq.layers[:n_q]:
            embed = layer._codebook.embed                # [K, D]
            # argmax of -(|x|^2 - 2 x.e + |e|^2) == argmin distance; |x|^2 does not change the winner.
            score = 2 * residual @ embed.t() - (embed * embed).sum(1)
            idx = score.argmax(dim=-1)                   # [B, T]
            residual = residual - nn.functional.embedding(idx, embed)
            codes.append(idx)
        return torch.stack(codes, dim=1)

    def decode(self, codes):
        """codes [B, n_q, T] -> z [B, D, T]: sum of the selected codewords."""
        z = None
        for q in range(codes.shape[1]):
            e = nn.functional.embedding(codes[:, q], self.vq.layers[q]._codebook.embed)   # [B, T, D]
            z = e if z is None else z + e
        return z.transpose(1, 2)


class EncodecModel24k(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = SEANetEncoder()
        self.decoder = SEANetDecoder()
        self.quantizer = ResidualVectorQuantizer()

    def remove_weight_norm(self):
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)) and hasattr(m, "weight_g"):
                remove_weight_norm(m)


class EncoderGraph(nn.Module):
    """ONNX contract: audio float32 [B, 1, N] (N a multiple of 320) -> codes int64 [B, n_q, N/320]."""

    def __init__(self, model, n_q):
        super().__init__()
        self.model, self.n_q = model, n_q

    def forward(self, audio):
        return self.model.quantizer.encode(self.model.encoder(audio), self.n_q)


class DecoderGraph(nn.Module):
    """ONNX contract: codes int64 [B, n_q, T] -> audio float32 [B, 1, 320 T]."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, codes):
        return self.model.decoder(self.model.quantizer.decode(codes))


def randomize(model, seed):
    """Seeded random weights with sensible scales: default conv/LSTM init, codebooks matched to the latents."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight_v") or "lstm.weight" in name:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / math.sqrt(p[0].numel())))
            elif name.endswith("weight_g"):
                p.copy_(torch.rand(p.shape, generator=g) * 0.5 + 0.75)
            elif name.endswith("bias") or "lstm.bias" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
        noise = torch.randn(1, 1, HOP_LENGTH * 50, generator=g) * 0.1
        scale = model.encoder(noise).std().item()
        for q, layer in enumerate(model.quantizer.vq.layers):
            cb = layer._codebook
            cb.embed.copy_(torch.randn(cb.embed.shape, generator=g) * scale * (0.7 ** q))
            cb.embed_avg.copy_(cb.embed)
            cb.cluster_size.fill_(1.0)
    return model
