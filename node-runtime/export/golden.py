"""Golden vectors from the PyTorch reference (spec §10.2), for the TypeScript test-suite.

Written as golden.json (cases + an index of tensors) and golden.bin (little-endian tensors), so the
tests need no Python. Tolerances live in the tests; this file only records what PyTorch computed.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

import reference
import speaker_codec
import tokenizer_gen
from chattts_arch import Model

TOKENIZER_CASES = [
    "hello world", "Hello World!", "THE QUICK brown fox jumps over the lazy dog.", "你好，世界。",
    "今天天气很不错。", "我们是一个测试语音合成的模型", "hello 你好 world 世界", "[Stts][spk_emb][speed_5]你好[Ptts]",
    "[uv_break]hello[laugh] world[lbreak]", "[Sbreak]测试[Pbreak][oral_2][laugh_0][break_6]",
    "testing sounds goodly", "unknownword xyz", "a,b;c:d!e?f", "  spaces   and\ttabs\nnewline ",
    "Ünïcödé àccents", "numbers 123 and 4567", "mixed中文english混合", "“quoted” （括号）",
    "[speed_9][speed_0]", "[notatoken] brackets", "hello" * 3, "",
    " ".join(["hello world this is a long sentence"] * 40),  # > 256 tokens: must not be truncated
    "你" * 300,
]

SPEAKER_TEXT = "你好，世界。"
FORCED_CODES = [[(7 * t + 31 * i) % 625 for i in range(4)] for t in range(12)]


class Writer:
    def __init__(self) -> None:
        self.index: dict[str, dict] = {}
        self.blobs: list[bytes] = []
        self.offset = 0

    def add(self, name: str, t) -> None:
        a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        if a.dtype.kind == "f":
            a, dt = a.astype("<f4"), "f32"
        else:
            a, dt = a.astype("<i4"), "i32"
        b = a.tobytes()
        self.index[name] = {"dtype": dt, "shape": list(a.shape), "offset": self.offset, "length": int(a.size)}
        self.blobs.append(b)
        self.offset += len(b)


def prompt_text(text: str) -> str:
    return f"[Stts][spk_emb][speed_5]{text}[Ptts]"


@torch.no_grad()
def write(m: Model, tok: dict, std, mean, voices: dict[str, str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    w = Writer()
    cases: dict[str, object] = {}
    cases["tokenizer"] = [{"text": t, "ids": tokenizer_gen.encode(tok, t)} for t in TOKENIZER_CASES]

    # Speakers (spec §9): string decode and L2 normalisation.
    spk = speaker_codec.decode_speaker(voices["default"]).astype(np.float32)
    w.add("speaker.default.raw", spk)
    spk_t = torch.from_numpy(spk)
    # Upstream normalises the decoded fp16 tensor: the norm and every quotient are fp16 values.
    norm16 = spk_t.norm().clamp_min(1e-12).half().float()
    spk_n = (spk_t / norm16).half().float()
    w.add("speaker.default.normalized", spk_n)
    # A 768-d speaker (the released size) compresses into a real LZMA chunk (control 0xE0, prefix
    # 蘁淰); the tiny pack's 64-d voices are stored as uncompressed LZMA2 chunks. Test both.
    big = (np.random.default_rng(11).standard_normal(768) * 4).astype(np.float16)
    big_str = speaker_codec.encode_speaker(big)
    assert big_str.startswith("蘁淰"), big_str[:2]
    cases["speaker768"] = {"string": big_str}
    w.add("speaker768.raw", big.astype(np.float32))
    w.add("spk_stat.std", std.astype(np.float32))
    w.add("spk_stat.mean", mean.astype(np.float32))

    # Prompt → embeddings with the speaker row replaced (spec §5.1, §5.2).
    ptext = prompt_text(SPEAKER_TEXT)
    ids = tokenizer_gen.encode(tok, ptext)
    spk_id = next(a["id"] for a in tok["added_tokens"] if a["content"] == "[spk_emb]")
    emb = m.embed.emb_text.weight[torch.tensor(ids)].clone()
    emb[torch.tensor(ids) == spk_id] = spk_n
    cases["prompt"] = {"text": SPEAKER_TEXT, "voice": "default", "prompt": ptext, "ids": ids}
    w.add("prompt.embeds", emb)

    # GPT prefill + teacher-forced decode steps.
    pasts = reference.empty_pasts(m)
    x = emb.unsqueeze(0)
    L = len(ids)
    steps = 4
    for k in range(steps):
        total = L + k
        attn = torch.ones(1, total, dtype=torch.int64)
        pos = torch.arange(total - x.shape[1], total).view(1, -1)
        last, logits, pasts = reference.gpt_step(m, x, attn, pos, pasts)
        w.add(f"gpt.step{k}.hidden", last[0])
        w.add(f"gpt.step{k}.logits", logits[0])
        if k == 0:
            w.add("head_text.logits", m.embed.head_text(last)[0])
        x = reference.code_embed(m, FORCED_CODES[k])
    cases["gpt"] = {"steps": steps, "forced_codes": FORCED_CODES[:steps]}

    # Sampler: processed distributions and inverse-CDF picks for fixed uniform draws.
    _, logits0, _ = reference.gpt_step(m, emb.unsqueeze(0), torch.ones(1, L, dtype=torch.int64),
                                       torch.arange(L).view(1, -1), reference.empty_pasts(m))
    history = [[(3 * t + i) % 7 for i in range(4)] for t in range(20)]
    sampler_cases = [
        {"params": {"temperature": 0.3, "top_p": 0.7, "top_k": 20, "repetition_penalty": 1.05, "min_new_tokens": 0},
         "step": 0, "history": []},
        {"params": {"temperature": 0.3, "top_p": 0.7, "top_k": 20, "repetition_penalty": 1.05, "min_new_tokens": 0},
         "step": 20, "history": history},
        {"params": {"temperature": 0.7, "top_p": 0.95, "top_k": 5, "repetition_penalty": 1.5, "min_new_tokens": 0},
         "step": 20, "history": history},
        {"params": {"temperature": 1.0, "top_p": 0.1, "top_k": 1, "repetition_penalty": 1.0, "min_new_tokens": 0},
         "step": 3, "history": history[:3]},
        {"params": {"temperature": 0.3, "top_p": 0.999, "top_k": 50, "repetition_penalty": 1.05, "min_new_tokens": 10},
         "step": 5, "history": history[:5]},
    ]
    rng = np.random.default_rng(7)
    logits_in = (logits0[0] * 1.0).clone()
    # Make EOS competitive in one row so the min-new-token mask and EOS handling are exercised.
    logits_in[1, 625] = logits_in[1].max() + 0.5
    w.add("sampler.logits", logits_in)
    for j, c in enumerate(sampler_cases):
        sp = reference.SamplerParams(**c["params"])
        probs = reference.process(logits_in, c["history"], c["step"], sp)
        u = rng.random(4).tolist()
        c["uniforms"] = u
        c["picks"] = reference.pick(probs, u)
        w.add(f"sampler.case{j}.probs", probs)
    cases["sampler"] = sampler_cases

    # Decoder → Vocos → iSTFT on teacher-forced hiddens of a fixed code sequence.
    codes, hiddens = reference.generate(m, emb.unsqueeze(0), len(FORCED_CODES), reference.SamplerParams(),
                                        None, forced=FORCED_CODES)
    mel, (mag, cos, sin), wav = reference.vocode(m, hiddens)
    w.add("vocode.hiddens", hiddens)
    w.add("vocode.mel", mel)
    w.add("vocode.mag", mag)
    w.add("vocode.cos", cos)
    w.add("vocode.sin", sin)
    w.add("vocode.wav", wav)
    cases["vocode"] = {"codes": FORCED_CODES, "tokens": len(FORCED_CODES)}

    (out / "golden.bin").write_bytes(b"".join(w.blobs))
    (out / "golden.json").write_text(json.dumps({"tensors": w.index, "cases": cases}, ensure_ascii=False))
