"""ChatTTS architecture in plain PyTorch, written from the project's ChatTTS engineering notes (architecture facts, no code; docs/chattts.md).

Module and parameter names follow the released state-dict keys (spec §1.3) wherever the
structure allows, so a checkpoint maps onto these modules with a short, explicit key table
(see checkpoint.py). Everything here is export-friendly: no in-place ops, no parametrisations,
no cache objects; the KV cache is explicit tensors in and out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import torch
import torch.nn.functional as F
from torch import nn

NUM_VQ = 4
NUM_AUDIO_TOKENS = 626  # 625 FSQ codes + EOS (spec §2.2)
N_MELS = 100
N_FFT = 1024
HOP = 256


@dataclass(frozen=True)
class Dims:
    hidden: int
    intermediate: int
    layers: int
    heads: int
    text_vocab: int
    dec_idim: int  # = hidden / 2 (two mel frames per GPT token)
    dec_hidden: int
    dec_layers: int
    dec_bn: int
    voc_dim: int
    voc_intermediate: int
    voc_layers: int
    rms_eps: float = 1e-6
    rope_theta: float = 10000.0
    # DVAE encoder (audio → codes, for audio prompts): downsample width, ConvNeXt stack, output
    # width (split into VQ_GROUPS groups for the FSQ). Release values as defaults.
    enc_dim: int = 512
    enc_hidden: int = 256
    enc_layers: int = 12
    enc_bn: int = 128
    enc_odim: int = 1024

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def to_json(self) -> dict:
        return asdict(self)


FULL = Dims(hidden=768, intermediate=3072, layers=20, heads=12, text_vocab=21178,
            dec_idim=384, dec_hidden=512, dec_layers=12, dec_bn=128,
            voc_dim=512, voc_intermediate=1536, voc_layers=8)


def tiny_dims(text_vocab: int) -> Dims:
    # Small enough that the committed pack stays well under a few MB and a decode step takes
    # about a millisecond, while keeping every structural feature (several heads, several layers,
    # dilated ConvNeXt, the 2-frames-per-token reshape, 100 mels, n_fft 1024).
    return Dims(hidden=64, intermediate=128, layers=2, heads=4, text_vocab=text_vocab,
                dec_idim=32, dec_hidden=32, dec_layers=2, dec_bn=16,
                voc_dim=32, voc_intermediate=64, voc_layers=2,
                enc_dim=32, enc_hidden=32, enc_layers=2, enc_bn=16, enc_odim=64)


# ---------------------------------------------------------------------------------------------
# GPT trunk (HF LlamaModel semantics, spec §5.3)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class Attention(nn.Module):
    def __init__(self, d: Dims):
        super().__init__()
        self.h, self.hd = d.heads, d.head_dim
        self.q_proj = nn.Linear(d.hidden, d.hidden, bias=False)
        self.k_proj = nn.Linear(d.hidden, d.hidden, bias=False)
        self.v_proj = nn.Linear(d.hidden, d.hidden, bias=False)
        self.o_proj = nn.Linear(d.hidden, d.hidden, bias=False)

    def forward(self, x, cos, sin, allowed, past_k, past_v):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.h, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.h, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.hd)
        # where(), not an additive mask: a fully masked (left-pad) row stays finite (spec §10.1).
        scores = torch.where(allowed, scores, torch.tensor(torch.finfo(torch.float32).min))
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, self.h * self.hd)
        return self.o_proj(out), k, v


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class MLP(nn.Module):
    def __init__(self, d: Dims):
        super().__init__()
        self.gate_proj = nn.Linear(d.hidden, d.intermediate, bias=False)
        self.up_proj = nn.Linear(d.hidden, d.intermediate, bias=False)
        self.down_proj = nn.Linear(d.intermediate, d.hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, d: Dims):
        super().__init__()
        self.self_attn = Attention(d)
        self.mlp = MLP(d)
        self.input_layernorm = RMSNorm(d.hidden, d.rms_eps)
        self.post_attention_layernorm = RMSNorm(d.hidden, d.rms_eps)

    def forward(self, x, cos, sin, allowed, pk, pv):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, allowed, pk, pv)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


class GPTTrunk(nn.Module):
    """LlamaModel without embed_tokens; keys `layers.{i}.…`, `norm.weight` as in the release."""

    def __init__(self, d: Dims):
        super().__init__()
        self.d = d
        self.layers = nn.ModuleList([Layer(d) for _ in range(d.layers)])
        self.norm = RMSNorm(d.hidden, d.rms_eps)
        inv = 1.0 / (d.rope_theta ** (torch.arange(0, d.head_dim, 2, dtype=torch.float32) / d.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, embeds, attention_mask, position_ids, pasts):
        """Returns (final-normed hidden (B,S,H), [present k, v per layer])."""
        s = embeds.shape[1]
        total = attention_mask.shape[1]
        past_len = total - s
        freqs = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq  # (B,S,hd/2)
        emb = torch.cat([freqs, freqs], dim=-1).unsqueeze(1)  # (B,1,S,hd)
        cos, sin = emb.cos(), emb.sin()
        q_idx = torch.arange(s).unsqueeze(1) + past_len
        k_idx = torch.arange(total).unsqueeze(0)
        causal = (k_idx <= q_idx).unsqueeze(0).unsqueeze(0)  # (1,1,S,T)
        keypad = (attention_mask == 1).unsqueeze(1).unsqueeze(2)  # (B,1,1,T)
        allowed = causal & keypad
        x = embeds
        presents = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, cos, sin, allowed, pasts[2 * i], pasts[2 * i + 1])
            presents += [k, v]
        return self.norm(x), presents


class Embed(nn.Module):
    """Embeddings and (already weight-norm-folded) heads, spec §2.2."""

    def __init__(self, d: Dims):
        super().__init__()
        self.emb_text = nn.Embedding(d.text_vocab, d.hidden)
        self.emb_code = nn.ModuleList([nn.Embedding(NUM_AUDIO_TOKENS, d.hidden) for _ in range(NUM_VQ)])
        self.head_text = nn.Linear(d.hidden, d.text_vocab, bias=False)
        self.head_code = nn.ModuleList([nn.Linear(d.hidden, NUM_AUDIO_TOKENS, bias=False) for _ in range(NUM_VQ)])

    def embed(self, ids: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        """ids (B,S,4) int64, text_mask (B,S) bool → (B,S,H) (spec §5.1)."""
        text = self.emb_text(ids[..., 0])
        code_ids = ids.clamp(max=NUM_AUDIO_TOKENS - 1)
        code = sum(self.emb_code[i](code_ids[..., i]) for i in range(NUM_VQ))
        return torch.where(text_mask.unsqueeze(-1), text, code)

    def code_logits(self, h: torch.Tensor) -> torch.Tensor:
        """h (B,H) → (B,4,626)."""
        return torch.stack([self.head_code[i](h) for i in range(NUM_VQ)], dim=1)


class GPTStep(nn.Module):
    """The exported `gpt.onnx`: one graph for prefill (P = 0) and decode (S = 1)."""

    def __init__(self, trunk: GPTTrunk, embed: Embed):
        super().__init__()
        self.trunk = trunk
        self.embed = embed

    def forward(self, inputs_embeds, attention_mask, position_ids, *pasts):
        h, presents = self.trunk(inputs_embeds, attention_mask, position_ids, list(pasts))
        last = h[:, -1, :]
        return (last, self.embed.code_logits(last), *presents)


class HeadText(nn.Module):
    def __init__(self, embed: Embed):
        super().__init__()
        self.embed = embed

    def forward(self, hidden):
        return self.embed.head_text(hidden)


# ---------------------------------------------------------------------------------------------
# Decoder (hidden states → mel, spec §6.1) and Vocos (mel → spectrum, spec §7)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, inter: int, dilation: int, gamma_name: str):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, 7, padding=3 * dilation, dilation=dilation, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, inter)
        self.pwconv2 = nn.Linear(inter, dim)
        # The layer scale is called `weight` in ChatTTS's decoder and `gamma` in Vocos (spec §1.3).
        self.gamma_name = gamma_name
        self.register_parameter(gamma_name, nn.Parameter(torch.full((dim,), 0.1)))

    def forward(self, x):
        y = self.dwconv(x).transpose(1, 2)
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y))))
        y = y * getattr(self, self.gamma_name)
        return x + y.transpose(1, 2)


class DVAEDecoder(nn.Module):
    def __init__(self, idim: int, odim: int, hidden: int, n_layer: int, bn: int):
        super().__init__()
        self.conv_in = nn.Sequential(nn.Conv1d(idim, bn, 3, 1, 1), nn.GELU(), nn.Conv1d(bn, hidden, 3, 1, 1))
        self.decoder_block = nn.ModuleList([ConvNeXtBlock(hidden, hidden * 4, 2, "weight") for _ in range(n_layer)])
        self.conv_out = nn.Conv1d(hidden, odim, 1, bias=False)

    def forward(self, x):
        x = self.conv_in(x)
        for blk in self.decoder_block:
            x = blk(x)
        return self.conv_out(x)


class Decoder(nn.Module):
    """`decoder.onnx`: hiddens (B, H, T) → mel (B, 100, 2T)."""

    def __init__(self, d: Dims):
        super().__init__()
        self.decoder = DVAEDecoder(d.dec_idim, d.dec_idim, d.dec_hidden, d.dec_layers, d.dec_bn)
        self.out_conv = nn.Conv1d(d.dec_idim, N_MELS, 3, 1, 1, bias=False)
        self.register_buffer("coef", torch.ones(1, N_MELS, 1))

    def forward(self, hiddens):
        b, c, t = hiddens.shape
        # frame 2t = channels [0, C/2) of token t, frame 2t+1 = channels [C/2, C) (spec §6.1).
        x = hiddens.reshape(b, 2, c // 2, t).permute(0, 2, 3, 1).reshape(b, c // 2, 2 * t)
        return self.out_conv(self.decoder(x)) * self.coef


class VocosBackbone(nn.Module):
    def __init__(self, d: Dims):
        super().__init__()
        self.embed = nn.Conv1d(N_MELS, d.voc_dim, 7, padding=3)
        self.norm = nn.LayerNorm(d.voc_dim, eps=1e-6)
        self.convnext = nn.ModuleList([ConvNeXtBlock(d.voc_dim, d.voc_intermediate, 1, "gamma") for _ in range(d.voc_layers)])
        self.final_layer_norm = nn.LayerNorm(d.voc_dim, eps=1e-6)

    def forward(self, mel):
        x = self.embed(mel)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for blk in self.convnext:
            x = blk(x)
        return self.final_layer_norm(x.transpose(1, 2))


class VocosHead(nn.Module):
    def __init__(self, d: Dims):
        super().__init__()
        self.out = nn.Linear(d.voc_dim, N_FFT + 2)


class Vocos(nn.Module):
    """`vocos.onnx`: mel (B,100,F) → mag, cos, sin (B,513,F); the iSTFT runs in TypeScript."""

    def __init__(self, d: Dims):
        super().__init__()
        self.backbone = VocosBackbone(d)
        self.head = VocosHead(d)

    def forward(self, mel):
        x = self.head.out(self.backbone(mel)).transpose(1, 2)
        logmag, phase = x[:, : N_FFT // 2 + 1], x[:, N_FFT // 2 + 1:]
        mag = torch.clamp(torch.exp(logmag), max=100.0)
        return mag, torch.cos(phase), torch.sin(phase)


# ---------------------------------------------------------------------------------------------
# DVAE encoder (log-mel → 4 code rows): upstream's `sample_audio_speaker` path. The mel itself is
# computed by the runtime (TypeScript FFT); the graph starts at the log-mel.

FSQ_LEVELS = (5, 5, 5, 5)  # 5⁴ = 625 codes = NUM_AUDIO_TOKENS − 1
VQ_GROUPS = 2
VQ_RESIDUALS = 2  # VQ_GROUPS × VQ_RESIDUALS = NUM_VQ code rows


def htk_mel_filterbank(n_freqs: int = N_FFT // 2 + 1, n_mels: int = N_MELS, sample_rate: int = 24000) -> torch.Tensor:
    """(n_freqs, n_mels) triangular HTK filters without normalisation, f_min 0, f_max sr/2, in
    float32 as torchaudio's `melscale_fbanks` computes them (its documented defaults)."""
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_max = 2595.0 * math.log10(1.0 + (sample_rate / 2) / 700.0)
    m_pts = torch.linspace(0.0, m_max, n_mels + 2)
    f_pts = 700.0 * (10.0 ** (m_pts / 2595.0) - 1.0)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
    down = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return torch.clamp(torch.min(down, up), min=0.0)


def log_mel(wav: torch.Tensor) -> torch.Tensor:
    """(L,) → (100, L//256 + 1): magnitude STFT (n_fft 1024, hop 256, periodic Hann, centre,
    reflect padding) → HTK mel → log(max(·, 1e-5)). The runtime's mel.ts computes the same."""
    spec = torch.stft(wav, N_FFT, HOP, N_FFT, torch.hann_window(N_FFT), center=True, pad_mode="reflect",
                      return_complex=True).abs()
    return torch.log(torch.clamp(htk_mel_filterbank().T @ spec, min=1e-5))


class ResidualFSQ(nn.Module):
    """One group: project to 4 dims, then VQ_RESIDUALS rounds of finite scalar quantisation on the
    residual, round r at scale (levels − 1)^−r. Forward returns the code index of each round."""

    def __init__(self, dim: int):
        super().__init__()
        self.project_in = nn.Linear(dim, len(FSQ_LEVELS))
        self.project_out = nn.Linear(len(FSQ_LEVELS), dim)  # unused here; part of the checkpoint
        # Constants, not state: kept out of the state dict so the release's keys match exactly.
        self.register_buffer("levels", torch.tensor(FSQ_LEVELS, dtype=torch.float32), persistent=False)
        self.register_buffer("basis", torch.cumprod(torch.tensor((1.0,) + FSQ_LEVELS[:-1]), 0), persistent=False)

    def forward(self, x):  # (B, T, dim) → (B, T, R)
        levels, basis = self.levels, self.basis
        half_l = (levels - 1) * (1 + 1e-3) / 2
        offset = torch.where(torch.remainder(levels, 2) == 0, 0.5, 0.0)
        shift = torch.atanh(offset / half_l)
        half_width = torch.floor(levels / 2)
        residual = self.project_in(x)
        out = []
        for r in range(VQ_RESIDUALS):
            scale = (levels - 1) ** -r
            z = residual / scale
            q = torch.round(torch.tanh(z + shift) * half_l - offset) / half_width
            out.append(((q * half_width + half_width) * basis).sum(-1))
            residual = residual - q * scale
        return torch.stack(out, -1)


class GroupedFSQ(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.rvqs = nn.ModuleList([ResidualFSQ(dim // VQ_GROUPS) for _ in range(VQ_GROUPS)])


class VQLayer(nn.Module):
    """Only a container, so the keys read `vq_layer.quantizer.rvqs.…` as in the release."""

    def __init__(self, dim: int):
        super().__init__()
        self.quantizer = GroupedFSQ(dim)


class DVAEEncoder(nn.Module):
    """`dvae_encoder.onnx`: log-mel (B, 100, F) → codes (B, 4, ⌊F/2⌋) int64, rows ordered
    group-major (group 0 rounds 0, 1; group 1 rounds 0, 1) as upstream's GFSQ flattens them."""

    def __init__(self, d: Dims):
        super().__init__()
        self.register_buffer("coef", torch.ones(1, N_MELS, 1))
        self.downsample_conv = nn.Sequential(nn.Conv1d(N_MELS, d.enc_dim, 3, 1, 1), nn.GELU(),
                                             nn.Conv1d(d.enc_dim, d.enc_dim, 4, 2, 1), nn.GELU())
        self.encoder = DVAEDecoder(d.enc_dim, d.enc_odim, d.enc_hidden, d.enc_layers, d.enc_bn)
        self.vq_layer = VQLayer(d.enc_odim)

    def forward(self, mel):
        x = self.encoder(self.downsample_conv(mel / self.coef)).transpose(1, 2)  # (B, T, odim)
        groups = torch.chunk(x, VQ_GROUPS, dim=-1)
        codes = torch.cat([rvq(g) for rvq, g in zip(self.vq_layer.quantizer.rvqs, groups)], dim=-1)  # (B, T, G·R)
        return codes.transpose(1, 2).round().to(torch.int64)


def istft(mag: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Reference iSTFT, exactly torch.istft(n_fft 1024, hop 256, hann periodic, center) (spec §7)."""
    spec = torch.complex(mag * cos, mag * sin)
    window = torch.hann_window(N_FFT, periodic=True)
    return torch.istft(spec, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT, window=window, center=True)


@dataclass
class Model:
    dims: Dims
    trunk: GPTTrunk
    embed: Embed
    decoder: Decoder
    vocos: Vocos
    # None: a checkpoint without DVAE.safetensors (the pack then has no audio prompts).
    dvae_encoder: DVAEEncoder | None = None

    def eval(self) -> "Model":
        for m in (self.trunk, self.embed, self.decoder, self.vocos, self.dvae_encoder):
            if m is not None:
                m.eval()
        return self


def build_random(d: Dims, seed: int) -> Model:
    """Random weights with the real shapes; scaled so activations stay in a sane range and the
    sampled audio is not pure clipping (the numbers mean nothing, the arithmetic does)."""
    torch.manual_seed(seed)
    trunk, embed, dec, voc = GPTTrunk(d), Embed(d), Decoder(d), Vocos(d)
    with torch.no_grad():
        for mod in (trunk, embed, dec, voc):
            for name, p in mod.named_parameters():
                if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                    p.copy_(1.0 + 0.1 * torch.randn_like(p))
                elif p.dim() == 1:
                    p.copy_(0.05 * torch.randn_like(p))
                else:
                    fan_in = p[0].numel()
                    p.copy_(torch.randn_like(p) / math.sqrt(fan_in))
        for e in [embed.emb_text, *embed.emb_code]:
            e.weight.mul_(0.5)
        # Sharper code heads so sampling has a few clear favourites, as a trained model does.
        for h in embed.head_code:
            h.weight.mul_(3.0)
        dec.coef.copy_(1.0 + 0.1 * torch.randn_like(dec.coef))
        # Keep log-magnitudes moderate: exp() of random activations would clip at 100 everywhere.
        voc.head.out.weight.mul_(0.3)
        voc.head.out.bias.copy_(torch.cat([torch.full((N_FFT // 2 + 1,), -3.0), torch.zeros(N_FFT // 2 + 1)]))
    # Drawn after the other modules, so adding the encoder left their weights unchanged.
    enc = DVAEEncoder(d)
    with torch.no_grad():
        for name, p in enc.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif p.dim() == 1:
                p.copy_(0.05 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / math.sqrt(p[0].numel()))
        # Spread the projections so codes use many FSQ levels (a trained encoder's do).
        for rvq in enc.vq_layer.quantizer.rvqs:
            rvq.project_in.weight.mul_(4.0)
        enc.coef.copy_(dec.coef)
    return Model(d, trunk, embed, dec, voc, enc).eval()
