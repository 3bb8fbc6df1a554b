"""Vocos for EnCodec 24 kHz codes (`charactr/vocos-encodec-24khz`), written for export to ONNX.

An independent implementation of the architecture the Vocos package builds from that model's config.yaml:

* features: EnCodec codes -> sum over the 8 codebooks of rows of `feature_extractor.codebook_weights`
  ([16 * 1024, 128]: the first 16 codebooks of the EnCodec quantizer, as Vocos' EncodecFeatures stores them, row
  `q * 1024 + code` for codebook q); 8 codebooks = 6 kbps = bandwidth id 2 of [1.5, 3, 6, 12] kbps.
* backbone: Conv1d(128 -> 384, kernel 7, padding 3), adaptive LayerNorm (per-bandwidth scale and shift embeddings,
  eps 1e-6), 8 ConvNeXt blocks (depthwise conv kernel 7, adaptive LayerNorm, Linear 384 -> 1152, exact GELU,
  Linear 1152 -> 384, layer scale `gamma`, residual), final LayerNorm (eps 1e-6).
* head: Linear(384 -> 1282) = 641 log-magnitudes and 641 phases, magnitude exp(.) clipped at 100, and an inverse STFT
  with n_fft = win_length = 1280, hop 320, periodic Hann window and "same" padding: overlap-add of the windowed
  inverse real FFTs, (1280 - 320) / 2 = 480 samples cut at each end, divided by the overlap-added squared window.
  T frames give exactly 320 T samples.

Parameter and buffer names are those of the Vocos package's modules (`backbone.convnext.3.pwconv1.weight`,
`backbone.norm.scale.weight`, `head.out.bias`, `head.istft.window`, `feature_extractor.codebook_weights`, ...), so
the published `pytorch_model.bin` loads with strict checking (its `feature_extractor.encodec.*` tensors, if any, are
the EnCodec model itself and are not needed to decode codes).

Two versions of the inverse STFT:
* `istft_reference`: torch.fft.irfft + F.fold, as the model is defined (used for the PyTorch reference outputs);
* `IstftGraph`: the same operation in ONNX-exportable operators. The inverse real DFT and the window are one
  constant basis [1282, 1, 1280] applied by ConvTranspose1d(stride 320), which also does the overlap-add; the window
  envelope is ConvTranspose1d of ones with the squared window. Nothing depends on the traced length, so the graph is
  correct at every T (the export checks T = 1, 2, 7, ... against the reference).
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

SAMPLE_RATE = 24000
HOP_LENGTH = 320
N_FFT = 1280
N_BINS = N_FFT // 2 + 1               # 641
INPUT_CHANNELS = 128                  # EnCodec latent dimension
DIM = 384
INTERMEDIATE_DIM = 1152
NUM_LAYERS = 8
BANDWIDTHS = [1.5, 3.0, 6.0, 12.0]    # kbps; the adaptive norms have one embedding per entry
BANDWIDTH_ID = 2                      # 6 kbps = 8 codebooks, what VALL-E produces
CODEBOOK_SIZE = 1024
STORED_CODEBOOKS = 16                 # codebooks needed for 12 kbps: codebook_weights has 16 * 1024 rows
N_Q = 8
MAX_MAGNITUDE = 100.0
PAD = (N_FFT - HOP_LENGTH) // 2       # "same" padding: 480


class AdaLayerNorm(nn.Module):
    """LayerNorm without affine parameters, then a scale and a shift chosen by the bandwidth id."""

    def __init__(self, num_embeddings, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.dim = dim
        self.scale = nn.Embedding(num_embeddings, dim)
        self.shift = nn.Embedding(num_embeddings, dim)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x, cond: int):
        # A Python int: in the exported graph the chosen rows are constants, the LayerNormalization's own
        # scale and bias (the same as normalising and then applying them).
        return F.layer_norm(x, (self.dim,), self.scale.weight[cond], self.shift.weight[cond], self.eps)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, intermediate_dim, layer_scale, num_embeddings):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = AdaLayerNorm(num_embeddings, dim)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x, cond: int):                       # x [B, C, T]
        h = self.dwconv(x).transpose(1, 2)                 # [B, T, C]
        h = self.pwconv2(self.act(self.pwconv1(self.norm(h, cond))))
        return x + (self.gamma * h).transpose(1, 2)


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        n_emb = len(BANDWIDTHS)
        self.embed = nn.Conv1d(INPUT_CHANNELS, DIM, kernel_size=7, padding=3)
        self.norm = AdaLayerNorm(n_emb, DIM)
        self.convnext = nn.ModuleList(
            [ConvNeXtBlock(DIM, INTERMEDIATE_DIM, 1.0 / NUM_LAYERS, n_emb) for _ in range(NUM_LAYERS)])
        self.final_layer_norm = nn.LayerNorm(DIM, eps=1e-6)

    def forward(self, features, cond: int):                # features [B, 128, T] -> [B, T, 384]
        x = self.embed(features)
        x = self.norm(x.transpose(1, 2), cond).transpose(1, 2)
        for block in self.convnext:
            x = block(x, cond)
        return self.final_layer_norm(x.transpose(1, 2))


class Istft(nn.Module):
    """Holds the window under the package's name (`head.istft.window`)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT))   # periodic, as torch.hann_window's default


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(DIM, N_FFT + 2)
        self.istft = Istft()


class FeatureExtractor(nn.Module):
    def __init__(self):
        super().__init__()
        self.codebook_weights = nn.Parameter(torch.zeros(STORED_CODEBOOKS * CODEBOOK_SIZE, INPUT_CHANNELS))


class Vocos(nn.Module):
    """The parameters of vocos-encodec-24khz under the package's names; `forward` is the PyTorch reference."""

    def __init__(self):
        super().__init__()
        self.feature_extractor = FeatureExtractor()
        self.backbone = Backbone()
        self.head = Head()

    def features(self, codes):                              # codes int64 [B, 8, T] -> [B, 128, T]
        n_q = codes.shape[1]
        offsets = torch.arange(n_q, device=codes.device).view(1, n_q, 1) * CODEBOOK_SIZE
        emb = F.embedding(codes + offsets, self.feature_extractor.codebook_weights)   # [B, 8, T, 128]
        return emb.sum(dim=1).transpose(1, 2)

    def spectrum(self, codes):
        """Log-magnitudes and phases [B, 641, T] each, from codes [B, 8, T]."""
        x = self.backbone(self.features(codes), BANDWIDTH_ID)
        x = self.head.out(x).transpose(1, 2)
        return x[:, :N_BINS], x[:, N_BINS:]

    def forward(self, codes):                               # -> audio [B, 1, 320 T]
        log_mag, phase = self.spectrum(codes)
        mag = torch.clip(torch.exp(log_mag), max=MAX_MAGNITUDE)
        # As the package does: the phase goes through atan2(sin, cos) and a complex exponential.
        phase = torch.atan2(torch.sin(phase), torch.cos(phase))
        spec = mag * torch.exp(1j * phase)
        return istft_reference(spec, self.head.istft.window).unsqueeze(1)


def istft_reference(spec, window):
    """Inverse STFT with "same" padding: complex [B, 641, T] -> [B, 320 T] (irfft, fold, envelope)."""
    _, _, t = spec.shape
    frames = torch.fft.irfft(spec, N_FFT, dim=1, norm="backward") * window[None, :, None]   # [B, 1280, T]
    length = (t - 1) * HOP_LENGTH + N_FFT
    y = F.fold(frames, output_size=(1, length), kernel_size=(1, N_FFT), stride=(1, HOP_LENGTH))[:, 0, 0]
    envelope = F.fold(window.square().view(1, N_FFT, 1).expand(1, N_FFT, t), output_size=(1, length),
                      kernel_size=(1, N_FFT), stride=(1, HOP_LENGTH))[0, 0, 0]
    y, envelope = y[:, PAD:length - PAD], envelope[PAD:length - PAD]
    assert bool((envelope > 1e-11).all())
    return y / envelope


def irfft_basis(window):
    """[1282, 1, 1280] float32: row k (< 641) maps Re X_k, row 641 + k maps Im X_k to the windowed frame.

    irfft of length N: x[n] = (1/N) (Re X_0 + Re X_{N/2} (-1)^n + 2 sum_{0<k<N/2} (Re X_k cos - Im X_k sin)(2 pi k n / N));
    the imaginary parts of bins 0 and N/2 do not contribute (as in torch.fft.irfft)."""
    n = torch.arange(N_FFT, dtype=torch.float64)
    k = torch.arange(N_BINS, dtype=torch.float64)
    angle = 2 * math.pi * torch.remainder(k[:, None] * n[None, :], N_FFT) / N_FFT
    weight = torch.full((N_BINS, 1), 2.0, dtype=torch.float64)
    weight[0] = weight[-1] = 1.0
    w = window.to(torch.float64)[None, :]
    real = weight * torch.cos(angle) / N_FFT * w
    imag = -weight * torch.sin(angle) / N_FFT * w
    imag[0] = 0.0
    imag[-1] = 0.0
    return torch.cat([real, imag], dim=0).unsqueeze(1).float()


class IstftGraph(nn.Module):
    """`istft_reference` from ONNX operators (two ConvTranspose1d, a slice, a division)."""

    def __init__(self, window):
        super().__init__()
        self.register_buffer("basis", irfft_basis(window))                          # [1282, 1, 1280]
        self.register_buffer("window_sq", window.square().float().view(1, 1, N_FFT))

    def forward(self, real, imag, ones):                   # [B, 641, T] twice; ones [1, 1, T]
        y = F.conv_transpose1d(torch.cat([real, imag], dim=1), self.basis, stride=HOP_LENGTH)   # [B, 1, (T-1) hop + N]
        envelope = F.conv_transpose1d(ones, self.window_sq, stride=HOP_LENGTH)                 # [1, 1, same]
        return y[:, :, PAD:-PAD] / envelope[:, :, PAD:-PAD]


class DecoderGraph(nn.Module):
    """codes int64 [B, 8, T] -> audio float32 [B, 1, 320 T], the function of `Vocos.forward` in exportable form."""

    def __init__(self, model: Vocos):
        super().__init__()
        self.backbone = model.backbone
        self.out = model.head.out
        # Only the 8 codebooks used at 6 kbps go into the graph.
        self.register_buffer("codebooks", model.feature_extractor.codebook_weights.detach()[: N_Q * CODEBOOK_SIZE].clone())
        self.register_buffer("offsets", (torch.arange(N_Q) * CODEBOOK_SIZE).view(1, N_Q, 1))
        self.istft = IstftGraph(model.head.istft.window.detach())

    def forward(self, codes):
        emb = F.embedding(codes + self.offsets, self.codebooks)                 # [B, 8, T, 128]
        x = self.backbone(emb.sum(dim=1).transpose(1, 2), BANDWIDTH_ID)        # [B, T, 384]
        x = self.out(x).transpose(1, 2)                                         # [B, 1282, T]
        log_mag, phase = x[:, :N_BINS], x[:, N_BINS:]
        mag = torch.clamp(torch.exp(log_mag), max=MAX_MAGNITUDE)
        ones = torch.ones_like(codes[:1, :1, :], dtype=torch.float32)          # [1, 1, T], T from the input
        return self.istft(mag * torch.cos(phase), mag * torch.sin(phase), ones)


def randomize(model: Vocos, seed: int):
    """Seeded random weights that make every parameter matter (untrained: the audio is noise-like).

    Scales keep activations O(1): weights ~ N(0, 1/fan_in), norms and layer scales near their usual values with
    per-channel spread, different conditioning rows per bandwidth id, log-magnitudes around -2 with a few bins
    pushed above log(100) so the magnitude clip is exercised, phases spread over several turns."""
    g = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=g) * std + mean

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "feature_extractor.codebook_weights":
                p.copy_(normal(p.shape, 0.5))
            elif name.endswith("scale.weight"):
                p.copy_(normal(p.shape, 0.1, 1.0))
            elif name.endswith("shift.weight"):
                p.copy_(normal(p.shape, 0.1))
            elif name.endswith("gamma"):
                p.copy_(normal(p.shape, 0.02, 1.0 / NUM_LAYERS))
            elif name.startswith("backbone.final_layer_norm"):
                p.copy_(normal(p.shape, 0.1, 1.0 if name.endswith("weight") else 0.0))
            elif name.endswith("weight"):                  # conv / linear
                fan_in = p[0].numel()
                p.copy_(normal(p.shape, 1.0 / math.sqrt(fan_in)))
            elif name.endswith("bias"):
                p.copy_(normal(p.shape, 0.02))
            else:
                raise AssertionError(f"unexpected parameter {name}")
        out = model.head.out
        out.weight[N_BINS:] *= 3.0                          # phases: several radians
        out.bias[:N_BINS] += -2.0                           # log-magnitudes around -2
        out.bias[20:24] += 7.0                              # a few bins saturate at the clip (100)
