#!/usr/bin/python3
"""Build a ChatTTS model pack for the node runtime's `chattts` engine.

  /usr/bin/python3 node-runtime/export/export_chattts.py --random --dims tiny --out models/chattts-tiny --golden
  /usr/bin/python3 node-runtime/export/export_chattts.py --random --dims full --out models/full/chattts-full --int8
  /usr/bin/python3 node-runtime/export/export_chattts.py --checkpoint ~/ChatTTS-weights --chattts-code ~/ChatTTS --out DIR
  /usr/bin/python3 node-runtime/export/export_chattts.py --checkpoint DIR --spk-stat spk_stat.txt --homophones map.json --out DIR
  /usr/bin/python3 node-runtime/export/export_chattts.py --random --dims tiny --write-checkpoint DIR   # synthetic release

The pack holds gpt.onnx (prefill + decode, explicit KV), head_text.onnx, decoder.onnx, vocos.onnx,
dvae_encoder.onnx (log-mel → codes: the first sentence's audio as a prompt for the rest),
embeddings.bin (emb_text then emb_code[0..3], fp32 row-major), tokenizer.json, speakers.json
(spk_stat + named voices as speaker strings), homophones.json when a ChatTTS checkout (or map)
is given, and manifest.json with sha256 per file. Checkpoint mode refuses to run without real
speaker statistics unless --synthetic-spk-stat says made-up ones are acceptable.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checkpoint  # noqa: E402
import golden  # noqa: E402
import gpt_fused  # noqa: E402
import onnx_graphs  # noqa: E402
import speaker_codec  # noqa: E402
import tokenizer_gen  # noqa: E402
import upstream_checkout  # noqa: E402
from chattts_arch import FULL, NUM_AUDIO_TOKENS, NUM_VQ, Model, build_random, tiny_dims  # noqa: E402


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def random_spk_stat(hidden: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # Same ranges as the released statistics (spec §9.1: std 1.6–15.7, mean ±8.9).
    rng = np.random.default_rng(seed)
    std = rng.uniform(1.64, 15.7, hidden).astype(np.float16)
    mean = rng.uniform(-8.8, 8.9, hidden).astype(np.float16)
    return std, mean


def sample_speaker(std: np.ndarray, mean: np.ndarray, seed: int) -> np.ndarray:
    # Upstream samples in fp16 (spec §9.2); numpy's generator stands in for torch's.
    z = np.random.default_rng(seed).standard_normal(std.shape[0]).astype(np.float16)
    return (z * std + mean).astype(np.float16)


def write_embeddings(m: Model, path: Path) -> None:
    with open(path, "wb") as f:
        f.write(m.embed.emb_text.weight.detach().numpy().astype("<f4").tobytes())
        for i in range(NUM_VQ):
            f.write(m.embed.emb_code[i].weight.detach().numpy().astype("<f4").tobytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--random", action="store_true", help="random weights with the real architecture")
    src.add_argument("--checkpoint", help="directory of the released weights (with or without asset/)")
    ap.add_argument("--dims", choices=["tiny", "full"], default="tiny")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", help="pack directory to write")
    ap.add_argument("--name", help="pack name (default chattts-<dims> / chattts)")
    ap.add_argument("--version", default="0.1.0")
    ap.add_argument("--spk-stat", help="file holding the base16384 spk_stat string (checkpoint mode)")
    ap.add_argument("--chattts-code", help="the user's 2noise/ChatTTS source checkout: spk_stat (unless --spk-stat) "
                                           "and the homophone map are read from it")
    ap.add_argument("--homophones", help="homophones_map.json to write into the pack (else from --chattts-code)")
    ap.add_argument("--synthetic-spk-stat", action="store_true",
                    help="checkpoint mode: accept made-up speaker statistics (random voices will not sound like ChatTTS)")
    ap.add_argument("--refine-max-new-tokens", type=int, help="pack default for the refine stage's max_new_tokens")
    ap.add_argument("--int8", action="store_true", help="also write gpt.int8.onnx, decoder.int8.onnx, vocos.int8.onnx (weight-only int8)")
    ap.add_argument("--int4", action="store_true", help="also write gpt.int4.onnx (block-32 int4, MatMulNBits)")
    ap.add_argument("--golden", action="store_true", help="write golden vectors under <out>/golden/")
    ap.add_argument("--max-new-tokens", type=int, help="pack default for max_new_tokens")
    ap.add_argument("--write-checkpoint", help="with --random: write a synthetic release checkpoint here and stop")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    full_vocab = args.dims == "full" or bool(args.checkpoint)
    if args.checkpoint:
        # Decided before the (slow) load, so a missing flag fails at once.
        if args.spk_stat:
            spk_stat_text = Path(args.spk_stat).read_text().strip()
        elif args.chattts_code:
            spk_stat_text = upstream_checkout.read_spk_stat(args.chattts_code)
        elif args.synthetic_spk_stat:
            spk_stat_text = None
        else:
            ap.error("checkpoint mode needs the speaker statistics: --spk-stat FILE or --chattts-code DIR "
                     "(or --synthetic-spk-stat to accept made-up ones)")
        m = checkpoint.load_checkpoint(args.checkpoint)
        tok = json.loads((checkpoint.asset_dir(args.checkpoint) / "tokenizer" / "tokenizer.json").read_text())
        if spk_stat_text is not None:
            std, mean = speaker_codec.decode_spk_stat(spk_stat_text)
        else:
            print("warning: --synthetic-spk-stat: made-up speaker statistics; random voices will not sound like ChatTTS",
                  file=sys.stderr)
            std, mean = random_spk_stat(m.dims.hidden, args.seed)
        name = args.name or "chattts"
        kind = "checkpoint"
    else:
        tok = tokenizer_gen.tokenizer_json(full=full_vocab)
        vocab_size = max(a["id"] for a in tok["added_tokens"]) + 1
        dims = FULL if args.dims == "full" else tiny_dims(vocab_size)
        if args.dims == "full":
            assert vocab_size == FULL.text_vocab, vocab_size
        m = build_random(dims, args.seed)
        std, mean = random_spk_stat(dims.hidden, args.seed)
        name = args.name or f"chattts-{args.dims}"
        kind = f"random-{args.dims}"
        if args.write_checkpoint:
            checkpoint.write_synthetic_checkpoint(m, args.write_checkpoint, tok)
            Path(args.write_checkpoint, "spk_stat.txt").write_text(speaker_codec.encode_spk_stat(std, mean))
            print(f"wrote synthetic checkpoint to {args.write_checkpoint}")
            return
    if not args.out:
        ap.error("--out is required")
    d = m.dims
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    onnx_graphs.export_gpt(m, out / "gpt.onnx")
    onnx_graphs.export_head_text(m, out / "head_text.onnx")
    onnx_graphs.export_decoder(m, out / "decoder.onnx")
    onnx_graphs.export_vocos(m, out / "vocos.onnx")
    graphs = {"gpt": "gpt.onnx", "head_text": "head_text.onnx", "decoder": "decoder.onnx", "vocos": "vocos.onnx"}
    # The same GPT as onnxruntime's fused operators: what the engine runs when a pack has it.
    gpt_fused.export_gpt_fused(m, out / "gpt.fused.onnx")
    graphs["gpt_fused"] = "gpt.fused.onnx"
    if m.dvae_encoder is not None:
        onnx_graphs.export_dvae_encoder(m, out / "dvae_encoder.onnx")
        graphs["dvae_encoder"] = "dvae_encoder.onnx"
    if args.int8:
        import quantize_int8
        n = quantize_int8.quantize(str(out / "gpt.onnx"), str(out / "gpt.int8.onnx"))
        print(f"int8: {n} MatMuls quantised")
        graphs["gpt_int8"] = "gpt.int8.onnx"
        quantize_int8.quantize(str(out / "gpt.fused.onnx"), str(out / "gpt.fused.int8.onnx"))
        graphs["gpt_fused_int8"] = "gpt.fused.int8.onnx"
        # The decoder's and Vocos's pointwise layers too (vocoder_precision int8; off by default).
        for g in ("decoder", "vocos"):
            n = quantize_int8.quantize(str(out / f"{g}.onnx"), str(out / f"{g}.int8.onnx"))
            print(f"int8: {n} {g} MatMuls quantised")
            graphs[f"{g}_int8"] = f"{g}.int8.onnx"
    if args.int4:
        import quantize_int4
        n = quantize_int4.quantize(str(out / "gpt.onnx"), str(out / "gpt.int4.onnx"))
        print(f"int4: {n} MatMuls quantised")
        graphs["gpt_int4"] = "gpt.int4.onnx"
    homophones = None
    if args.homophones:
        homophones = json.loads(Path(args.homophones).read_text(encoding="utf-8"))
    elif args.chattts_code:
        homophones = upstream_checkout.read_homophones(args.chattts_code)
    if homophones is not None:
        (out / "homophones.json").write_text(json.dumps(homophones, ensure_ascii=False, sort_keys=True))
    write_embeddings(m, out / "embeddings.bin")
    (out / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False))
    voices = {"default": speaker_codec.encode_speaker(sample_speaker(std, mean, args.seed + 1)),
              "alt": speaker_codec.encode_speaker(sample_speaker(std, mean, args.seed + 2))}
    (out / "speakers.json").write_text(json.dumps(
        {"spk_stat": speaker_codec.encode_spk_stat(std, mean), "voices": voices}, ensure_ascii=False, indent=1))

    max_new = args.max_new_tokens or (96 if args.dims == "tiny" and not args.checkpoint else 2048)
    parameters = {
        "source": kind,
        "dims": {"hidden": d.hidden, "layers": d.layers, "heads": d.heads, "head_dim": d.head_dim,
                 "num_vq": NUM_VQ, "num_audio_tokens": NUM_AUDIO_TOKENS, "text_vocab": d.text_vocab},
        "graphs": graphs,
        "embeddings": "embeddings.bin",
        "tokenizer": "tokenizer.json",
        "speakers": "speakers.json",
        "default_voice": "default",
        "sampling": {"temperature": 0.3, "top_p": 0.7, "top_k": 20, "repetition_penalty": 1.05,
                     "max_new_tokens": max_new, "min_new_tokens": 0, "prompt": "[speed_5]"},
    }
    # Random weights rarely draw [Ebreak]: the tiny pack caps the refine stage to keep tests short.
    refine_max = args.refine_max_new_tokens or (12 if args.dims == "tiny" and not args.checkpoint else None)
    if refine_max is not None:
        parameters["refine"] = {"max_new_tokens": refine_max}
    if homophones is not None:
        parameters["homophones"] = "homophones.json"
    if args.golden:
        golden.write(m, tok, std, mean, voices, out / "golden")
    files = []
    for p in sorted(out.iterdir()):
        if p.is_file() and p.name != "manifest.json":
            files.append({"path": p.name, "sha256": sha256(p), "bytes": p.stat().st_size})
    manifest = {"name": name, "version": args.version, "engine": "chattts", "languages": ["zh", "en"],
                "voices": ["default", "alt", "random", "empty_spk"], "sample_rate": 24000,
                "parameters": parameters, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out} ({sum(f['bytes'] for f in files) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
