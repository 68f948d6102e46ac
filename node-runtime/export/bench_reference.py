#!/usr/bin/python3
"""PyTorch eager baseline for bench/chattts/run.ts: the same random full-size model as the pack
(rebuilt from the exporter's seed), the same prompt length and the same forced number of tokens,
run by reference.py's loop (prefill + KV-cache decode + sampler, then decoder → Vocos → iSTFT).
Prints one JSON object on stdout.

  /usr/bin/python3 node-runtime/export/bench_reference.py --dims full --prompt-len 24 --tokens 64 --threads 2
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference  # noqa: E402
from chattts_arch import FULL, build_random, tiny_dims  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dims", choices=["tiny", "full"], default="full")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--prompt-len", type=int, default=24)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t = time.perf_counter()
    m = build_random(FULL if args.dims == "full" else tiny_dims(300), args.seed)
    build_s = time.perf_counter() - t
    rng = np.random.default_rng(0)
    ids = torch.from_numpy(rng.integers(0, 21128, args.prompt_len))
    sp = reference.SamplerParams(min_new_tokens=args.tokens)
    runs = []
    with torch.no_grad():
        # Warm-up: one short generation so lazy initialisation is not timed.
        emb = m.embed.emb_text.weight[ids].unsqueeze(0)
        reference.generate(m, emb, 4, reference.SamplerParams(min_new_tokens=4), lambda s: rng.random(4).tolist())
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            emb = m.embed.emb_text.weight[ids].unsqueeze(0)
            pasts = reference.empty_pasts(m)
            L = args.prompt_len
            last, logits, pasts = reference.gpt_step(m, emb, torch.ones(1, L, dtype=torch.int64), torch.arange(L).view(1, -1), pasts)
            t1 = time.perf_counter()
            c1 = time.process_time()
            codes, hiddens, step_ms = [], [], []
            for step in range(args.tokens):
                ts = time.perf_counter()
                if step > 0:
                    x = reference.code_embed(m, codes[-1])
                    total = L + step
                    last, logits, pasts = reference.gpt_step(m, x, torch.ones(1, total, dtype=torch.int64),
                                                             torch.tensor([[total - 1]]), pasts)
                probs = reference.process(logits[0], codes, step, sp)
                codes.append(reference.pick(probs, rng.random(4).tolist()))
                hiddens.append(last[0])
                if step > 0:
                    step_ms.append((time.perf_counter() - ts) * 1e3)
            t2 = time.perf_counter()
            cpu_decode = time.process_time() - c1
            mel, _, wav = reference.vocode(m, torch.stack(hiddens))
            t3 = time.perf_counter()
            runs.append({"prefill_ms": (t1 - t0) * 1e3, "decode_ms": (t2 - t1) * 1e3, "vocode_ms": (t3 - t2) * 1e3,
                         "total_ms": (t3 - t0) * 1e3, "samples": int(wav.shape[-1]), "step_ms": step_ms,
                         # CPU seconds (all threads) per decode step: insensitive to other load.
                         "cpu_ms_per_step": cpu_decode * 1e3 / max(1, args.tokens)})
    best = min(runs, key=lambda r: r["total_ms"])
    # Decode steps: the prefill produced token 0; tokens-1 single-position steps follow.
    best["decode_tok_s"] = (args.tokens - 1) / (best["decode_ms"] / 1e3) if args.tokens > 1 else 0.0
    steps = sorted(x for r in runs for x in r["step_ms"])
    stats = {"median_ms": float(np.median(steps)), "p10_ms": float(np.percentile(steps, 10)), "n": len(steps),
             "cpu_ms_per_step": float(np.median([r["cpu_ms_per_step"] for r in runs]))} if steps else {}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "build_s": build_s,
                      "tokens": args.tokens, "prompt_len": args.prompt_len, "runs": runs, "best": best, "step": stats}))


if __name__ == "__main__":
    main()
