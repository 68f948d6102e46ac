"""The GPT step written node by node with onnxruntime's fused operators (docs/chattts.md, "The
fused GPT graph").

`gpt.onnx` is what torch.onnx.export makes of the trunk: about 1,900 small nodes per step (shape
arithmetic, rotary slices, a Concat of every layer's whole KV cache) and a cache that makes a round
trip through JavaScript each step. On two CPU cores at batch 8 those cost as much as the weight
reads. Per layer this graph has:

    SkipSimplifiedLayerNormalization → MatMul(q|k|v) → Split → RotaryEmbedding(q), (k)
    → attention over the cache in place → MatMul(o) → SkipSimplifiedLayerNormalization
    → MatMul(gate|up) → Split → QuickGelu(α = 1: SiLU) → Mul → MatMul(down)

Inputs: `inputs_embeds` (B, S, H); `position_ids` (B, S), row b's positions, starting at its past
length; `past_key_values.{i}.{key,value}` (B, heads, capacity, head_dim), each row *left*-aligned.
Outputs: `hidden_last` (B, H), `logits_code` (B, 4, 626), and `new_key.{i}`, `new_value.{i}`
(B, S, H): only the new positions' K (rotated) and V, which the caller writes into its cache.

The attention scores the past columns with one batched MatMul against the cache as it lies, masked
from column `position_ids[b, 0]` on (so rows of unequal length share a batch), scores the new
positions among themselves (causal), and takes one softmax over both: the cache is read once and
never copied. Prefill is the same graph at S > 1 with an empty (all-masked) cache.

The weights are the same tensors as `gpt.onnx`'s (q, k and v side by side, gate and up side by
side, the four code heads side by side), so the int8 quantiser (one scale per output column)
gives each column the scale it gets in `gpt.int8.onnx`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from onnx import TensorProto, helper, numpy_helper, save

from chattts_arch import NUM_AUDIO_TOKENS, NUM_VQ, Model

OPSET = 17
MS = "com.microsoft"


def _w(linear: torch.nn.Linear) -> np.ndarray:
    """A Linear's weight as the right operand of MatMul: (in, out)."""
    return linear.weight.detach().numpy().astype(np.float32).T


@torch.no_grad()
def export_gpt_fused(m: Model, path: Path, max_positions: int = 4096) -> None:
    d = m.dims
    h, hd, eps = d.hidden, d.head_dim, d.rms_eps
    inits: list = []
    nodes: list = []

    def init(name: str, a: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(a, name))
        return name

    def node(op: str, ins: list[str], outs: list[str], **attrs) -> None:
        nodes.append(helper.make_node(op, ins, outs, **attrs))

    inv = 1.0 / (d.rope_theta ** (np.arange(0, hd, 2, dtype=np.float32) / hd))
    freqs = np.arange(max_positions, dtype=np.float32)[:, None] * inv[None, :]
    cos = init("cos_cache", np.cos(freqs).astype(np.float32))
    sin = init("sin_cache", np.sin(freqs).astype(np.float32))
    split = init("gate_up_split", np.array([d.intermediate, d.intermediate], dtype=np.int64))
    qkv_split = init("qkv_split", np.array([h, h, h], dtype=np.int64))

    heads_shape = init("heads_shape", np.array([0, 0, d.heads, hd], dtype=np.int64))
    flat_shape = init("flat_shape", np.array([0, 0, h], dtype=np.int64))
    neg = init("masked", np.array(np.finfo(np.float32).min, dtype=np.float32))
    scale = float(1.0 / np.sqrt(hd))
    one = init("one", np.array([1], dtype=np.int64))
    two = init("two", np.array([2], dtype=np.int64))
    three = init("three", np.array([3], dtype=np.int64))
    zero_s = init("zero_scalar", np.array(0, dtype=np.int64))
    one_s = init("one_scalar", np.array(1, dtype=np.int64))
    # past_valid (B, 1, 1, capacity): column c of row b holds a position iff c < position_ids[b, 0]
    # (the row's past length). causal (S, S): new position j is seen by new position i iff j ≤ i.
    # score_split: [capacity, S], to part the softmax again.
    node("Shape", ["past_key_values.0.key"], ["past_shape"])
    node("Slice", ["past_shape", two, three], ["capacity_1d"])
    node("Squeeze", ["capacity_1d"], ["capacity"])
    node("Range", [zero_s, "capacity", one_s], ["columns"])
    node("Gather", ["position_ids", zero_s], ["past_len"], axis=1)
    node("Reshape", ["past_len", init("col_shape", np.array([-1, 1, 1, 1], dtype=np.int64))], ["past_len_4d"])
    node("Less", ["columns", "past_len_4d"], ["past_valid"])
    node("Shape", ["inputs_embeds"], ["embeds_shape"])
    node("Slice", ["embeds_shape", one, two], ["seq_1d"])
    node("Squeeze", ["seq_1d"], ["seq"])
    node("Range", [zero_s, "seq", one_s], ["new_idx"])
    node("Unsqueeze", ["new_idx", one], ["new_rows"])
    node("LessOrEqual", ["new_idx", "new_rows"], ["causal"])
    node("Concat", ["capacity_1d", "seq_1d"], ["score_split"], axis=0)

    x, resid = "inputs_embeds", None
    for i, layer in enumerate(m.trunk.layers):
        a, p = layer.self_attn, f"l{i}"
        g_in = init(f"{p}.input_norm", layer.input_layernorm.weight.detach().numpy().astype(np.float32))
        if resid is None:
            node("SimplifiedLayerNormalization", [x, g_in], [f"{p}.n1"], axis=-1, epsilon=eps)
            resid = x
        else:
            node("SkipSimplifiedLayerNormalization", [x, resid, g_in], [f"{p}.n1", "", "", f"{p}.r1"], domain=MS, epsilon=eps)
            resid = f"{p}.r1"
        wqkv = init(f"{p}.qkv", np.concatenate([_w(a.q_proj), _w(a.k_proj), _w(a.v_proj)], axis=1))
        node("MatMul", [f"{p}.n1", wqkv], [f"{p}.qkv_out"])
        node("Split", [f"{p}.qkv_out", qkv_split], [f"{p}.q", f"{p}.k", f"{p}.v"], axis=-1)
        for t in ("q", "k"):
            node("RotaryEmbedding", [f"{p}.{t}", "position_ids", cos, sin], [f"{p}.{t}_rot"], domain=MS, interleaved=0)
        node("Identity", [f"{p}.k_rot"], [f"new_key.{i}"])
        node("Identity", [f"{p}.v"], [f"new_value.{i}"])
        # Attention over the cache as it lies (B, heads, capacity, hd), read once, never copied:
        # the past columns and the new ones scored apart, one softmax over both.
        for t, src in (("q4", f"{p}.q_rot"), ("k4", f"{p}.k_rot"), ("v4", f"{p}.v")):
            node("Reshape", [src, heads_shape], [f"{p}.{t}_bsnh"])
            node("Transpose", [f"{p}.{t}_bsnh"], [f"{p}.{t}"], perm=[0, 2, 1, 3])
        node("FusedMatMul", [f"{p}.q4", f"past_key_values.{i}.key"], [f"{p}.s_past_raw"], domain=MS, transB=1, alpha=scale)
        node("FusedMatMul", [f"{p}.q4", f"{p}.k4"], [f"{p}.s_new_raw"], domain=MS, transB=1, alpha=scale)
        node("Where", ["past_valid", f"{p}.s_past_raw", neg], [f"{p}.s_past"])
        node("Where", ["causal", f"{p}.s_new_raw", neg], [f"{p}.s_new"])
        node("Concat", [f"{p}.s_past", f"{p}.s_new"], [f"{p}.scores"], axis=-1)
        node("Softmax", [f"{p}.scores"], [f"{p}.probs"], axis=-1)
        node("Split", [f"{p}.probs", "score_split"], [f"{p}.p_past", f"{p}.p_new"], axis=-1)
        node("MatMul", [f"{p}.p_past", f"past_key_values.{i}.value"], [f"{p}.o_past"])
        node("MatMul", [f"{p}.p_new", f"{p}.v4"], [f"{p}.o_new"])
        node("Add", [f"{p}.o_past", f"{p}.o_new"], [f"{p}.o4"])
        node("Transpose", [f"{p}.o4"], [f"{p}.o_bsnh"], perm=[0, 2, 1, 3])
        node("Reshape", [f"{p}.o_bsnh", flat_shape], [f"{p}.attn"])
        node("MatMul", [f"{p}.attn", init(f"{p}.o", _w(a.o_proj))], [f"{p}.o_out"])
        g_post = init(f"{p}.post_norm", layer.post_attention_layernorm.weight.detach().numpy().astype(np.float32))
        node("SkipSimplifiedLayerNormalization", [f"{p}.o_out", resid, g_post], [f"{p}.n2", "", "", f"{p}.r2"], domain=MS, epsilon=eps)
        resid = f"{p}.r2"
        mlp = layer.mlp
        wgu = init(f"{p}.gate_up", np.concatenate([_w(mlp.gate_proj), _w(mlp.up_proj)], axis=1))
        node("MatMul", [f"{p}.n2", wgu], [f"{p}.gu"])
        node("Split", [f"{p}.gu", split], [f"{p}.gate", f"{p}.up"], axis=-1)
        node("QuickGelu", [f"{p}.gate"], [f"{p}.act"], domain=MS, alpha=1.0)
        node("Mul", [f"{p}.act", f"{p}.up"], [f"{p}.prod"])
        node("MatMul", [f"{p}.prod", init(f"{p}.down", _w(mlp.down_proj))], [f"{p}.mlp"])
        x = f"{p}.mlp"

    g_final = init("final_norm", m.trunk.norm.weight.detach().numpy().astype(np.float32))
    node("SkipSimplifiedLayerNormalization", [x, resid, g_final], ["normed"], domain=MS, epsilon=eps)
    node("Gather", ["normed", init("last", np.array(-1, dtype=np.int64))], ["hidden_last"], axis=1)
    heads = np.concatenate([_w(m.embed.head_code[q]) for q in range(NUM_VQ)], axis=1)
    node("MatMul", ["hidden_last", init("code_heads", heads)], ["code_flat"])
    shape = init("code_shape", np.array([-1, NUM_VQ, NUM_AUDIO_TOKENS], dtype=np.int64))
    node("Reshape", ["code_flat", shape], ["logits_code"])

    kv = ["batch", d.heads, "capacity", hd]
    ins = [helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch", "seq", h]),
           helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"])]
    outs = [helper.make_tensor_value_info("hidden_last", TensorProto.FLOAT, ["batch", h]),
            helper.make_tensor_value_info("logits_code", TensorProto.FLOAT, ["batch", NUM_VQ, NUM_AUDIO_TOKENS])]
    for i in range(d.layers):
        for k in ("key", "value"):
            ins.append(helper.make_tensor_value_info(f"past_key_values.{i}.{k}", TensorProto.FLOAT, kv))
            outs.append(helper.make_tensor_value_info(f"new_{k}.{i}", TensorProto.FLOAT, ["batch", "seq", h]))
    graph = helper.make_graph(nodes, "chattts_gpt_fused", ins, outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)])
    model.ir_version = 8
    big = sum(t.ByteSize() for t in inits) > 1_800_000_000
    save(model, str(path), save_as_external_data=big, location=f"{path.name}.data" if big else None)


def add_to_pack(pack: Path, m: Model, int8: bool) -> list[str]:
    """Writes gpt.fused.onnx (and its int8 twin) into a pack and lists them in its manifest."""
    import json

    from export_chattts import sha256

    export_gpt_fused(m, pack / "gpt.fused.onnx")
    written = {"gpt_fused": "gpt.fused.onnx"}
    if int8:
        import quantize_int8
        quantize_int8.quantize(str(pack / "gpt.fused.onnx"), str(pack / "gpt.fused.int8.onnx"))
        written["gpt_fused_int8"] = "gpt.fused.int8.onnx"
    manifest_path = pack / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["parameters"]["graphs"].update(written)
    files = {f["path"]: f for f in manifest["files"]}
    for name in written.values():
        files[name] = {"path": name, "sha256": sha256(pack / name), "bytes": (pack / name).stat().st_size}
    manifest["files"] = [files[k] for k in sorted(files)]
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return list(written.values())


if __name__ == "__main__":
    # Adds the fused graphs to a pack exported before they existed, from the same random weights
    # (build_random is seeded): `gpt_fused.py --pack models/chattts-tiny --dims tiny --int8`.
    import argparse

    import tokenizer_gen
    from chattts_arch import FULL, build_random, tiny_dims

    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", required=True)
    ap.add_argument("--dims", choices=["tiny", "full"], required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--int8", action="store_true")
    args = ap.parse_args()
    tok = tokenizer_gen.tokenizer_json(full=args.dims == "full")
    vocab = max(a["id"] for a in tok["added_tokens"]) + 1
    model = build_random(FULL if args.dims == "full" else tiny_dims(vocab), args.seed)
    print("wrote", ", ".join(add_to_pack(Path(args.pack), model, args.int8)))
