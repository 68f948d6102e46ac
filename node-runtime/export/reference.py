"""PyTorch reference of the generation path (spec §5.5, §6, §7): sampler processors, the
prefill + KV-cache decode loop, decoder → Vocos → iSTFT. Used for golden vectors and as the
eager baseline in the benchmark. RNG-free: the caller supplies the uniform draws, because torch's
generator cannot be reproduced in JavaScript (spec §10.2 item 5).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from chattts_arch import NUM_AUDIO_TOKENS, Model, istft

EOS = NUM_AUDIO_TOKENS - 1


@dataclass
class SamplerParams:
    temperature: float = 0.3
    top_p: float = 0.7
    top_k: int = 20
    repetition_penalty: float = 1.05
    min_new_tokens: int = 0
    window: int = 16


def process(logits: torch.Tensor, history: list[list[int]], step: int, sp: SamplerParams) -> torch.Tensor:
    """logits (4,626) → probabilities (4,626) after temperature, repetition penalty, top-P, top-K
    and the min-new-token EOS mask, in the upstream order (spec §5.5 steps 4–7)."""
    x = logits.to(torch.float32) / sp.temperature
    if sp.repetition_penalty != 1.0 and history:
        win = torch.tensor(history[-sp.window:], dtype=torch.int64)  # (w,4)
        for i in range(x.shape[0]):
            freq = torch.bincount(win[:, i], minlength=x.shape[1]).to(torch.float32)
            alpha = torch.pow(torch.tensor(sp.repetition_penalty, dtype=torch.float32), freq)
            x[i] = torch.where(x[i] < 0, x[i] * alpha, x[i] / alpha)
    # top-P (HF TopPLogitsWarper, min_tokens_to_keep 3)
    srt, idx = torch.sort(x, dim=-1, descending=False)
    cum = srt.softmax(-1).cumsum(-1)
    remove = cum <= (1 - sp.top_p)
    remove[..., -3:] = False
    x = x.masked_fill(remove.scatter(1, idx, remove), float("-inf"))
    # top-K (HF TopKLogitsWarper, min_tokens_to_keep 3)
    k = min(max(sp.top_k, 3), x.shape[-1])
    kth = torch.topk(x, k)[0][..., -1, None]
    x = x.masked_fill(x < kth, float("-inf"))
    if step < sp.min_new_tokens:
        x[:, EOS] = float("-inf")
    return torch.softmax(x, dim=-1)


def pick(probs: torch.Tensor, uniforms: list[float]) -> list[int]:
    """Inverse-CDF draw per row: the first index whose float64 running sum exceeds u."""
    out = []
    for row, u in zip(probs.to(torch.float64), uniforms):
        c = torch.cumsum(row, 0)
        j = int(torch.searchsorted(c, torch.tensor([u], dtype=torch.float64), right=True)[0])
        last_nonzero = int(torch.nonzero(row > 0)[-1])
        out.append(min(j, last_nonzero))
    return out


def empty_pasts(m: Model, batch: int = 1) -> list[torch.Tensor]:
    d = m.dims
    return [torch.zeros(batch, d.heads, 0, d.head_dim) for _ in range(2 * d.layers)]


def gpt_step(m: Model, embeds, attn, pos, pasts):
    h, presents = m.trunk(embeds, attn, pos, pasts)
    last = h[:, -1]
    return last, m.embed.code_logits(last), presents


def code_embed(m: Model, codes: list[int]) -> torch.Tensor:
    return sum(m.embed.emb_code[i].weight[c] for i, c in enumerate(codes)).view(1, 1, -1)


@torch.no_grad()
def generate(m: Model, prompt_embeds: torch.Tensor, n_max: int, sp: SamplerParams, uniforms, forced=None):
    """Prefill + decode. Returns (codes list (T,4), hiddens (T,H)). `uniforms(step)` gives 4 draws;
    `forced` (list of code rows) bypasses sampling (teacher forcing for golden vectors)."""
    L = prompt_embeds.shape[1]
    pasts = empty_pasts(m)
    emb = prompt_embeds
    codes: list[list[int]] = []
    hiddens = []
    for step in range(n_max):
        total = L + step
        attn = torch.ones(1, total, dtype=torch.int64)
        pos = torch.arange(total - emb.shape[1], total).view(1, -1)
        last, logits, pasts = gpt_step(m, emb, attn, pos, pasts)
        if forced is not None:
            row = list(forced[step])
        else:
            row = pick(process(logits[0], codes, step, sp), uniforms(step))
        if EOS in row:
            break
        codes.append(row)
        hiddens.append(last[0])
        emb = code_embed(m, row)
    return codes, torch.stack(hiddens) if hiddens else torch.zeros(0, m.dims.hidden)


@torch.no_grad()
def vocode(m: Model, hiddens: torch.Tensor):
    """hiddens (T,H) → mel (100,2T), (mag,cos,sin) (513,2T), wav (512T-256)."""
    mel = m.decoder(hiddens.T.unsqueeze(0))
    mag, cos, sin = m.vocos(mel)
    wav = istft(mag[0], cos[0], sin[0])
    return mel[0], (mag[0], cos[0], sin[0]), wav
