"""torch.onnx export of the graph set of spec §10.1 (opset 17, dynamic batch/sequence axes)."""
from __future__ import annotations

from pathlib import Path

import torch

from chattts_arch import N_MELS, GPTStep, HeadText, Model

OPSET = 17


def gpt_io_names(layers: int) -> tuple[list[str], list[str]]:
    past = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    return ["inputs_embeds", "attention_mask", "position_ids", *past], ["hidden_last", "logits_code", *present]


@torch.no_grad()
def export_gpt(m: Model, path: Path) -> None:
    d = m.dims
    ins, outs = gpt_io_names(d.layers)
    # Trace with P > 0 and S > 1 so neither axis is specialised to a constant.
    s, p = 3, 2
    args = (torch.randn(1, s, d.hidden), torch.ones(1, p + s, dtype=torch.int64),
            torch.arange(p, p + s).view(1, s),
            *[torch.randn(1, d.heads, p, d.head_dim) for _ in range(2 * d.layers)])
    axes: dict[str, dict[int, str]] = {
        "inputs_embeds": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "total"},
        "position_ids": {0: "batch", 1: "seq"}, "hidden_last": {0: "batch"}, "logits_code": {0: "batch"},
    }
    for n in ins[3:]:
        axes[n] = {0: "batch", 2: "past"}
    for n in outs[2:]:
        axes[n] = {0: "batch", 2: "total"}
    torch.onnx.export(GPTStep(m.trunk, m.embed).eval(), args, str(path), input_names=ins, output_names=outs,
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)


@torch.no_grad()
def export_head_text(m: Model, path: Path) -> None:
    torch.onnx.export(HeadText(m.embed).eval(), (torch.randn(1, m.dims.hidden),), str(path),
                      input_names=["hidden"], output_names=["logits_text"],
                      dynamic_axes={"hidden": {0: "batch"}, "logits_text": {0: "batch"}},
                      opset_version=OPSET, do_constant_folding=True)


@torch.no_grad()
def export_decoder(m: Model, path: Path) -> None:
    torch.onnx.export(m.decoder.eval(), (torch.randn(1, m.dims.hidden, 7),), str(path),
                      input_names=["hiddens"], output_names=["mel"],
                      dynamic_axes={"hiddens": {0: "batch", 2: "tokens"}, "mel": {0: "batch", 2: "frames"}},
                      opset_version=OPSET, do_constant_folding=True)


@torch.no_grad()
def export_vocos(m: Model, path: Path) -> None:
    torch.onnx.export(m.vocos.eval(), (torch.randn(1, N_MELS, 14),), str(path),
                      input_names=["mel"], output_names=["mag", "cos", "sin"],
                      dynamic_axes={"mel": {0: "batch", 2: "frames"}, "mag": {0: "batch", 2: "frames"},
                                    "cos": {0: "batch", 2: "frames"}, "sin": {0: "batch", 2: "frames"}},
                      opset_version=OPSET, do_constant_folding=True)


@torch.no_grad()
def export_dvae_encoder(m: Model, path: Path) -> None:
    assert m.dvae_encoder is not None
    torch.onnx.export(m.dvae_encoder.eval(), (torch.randn(1, N_MELS, 14),), str(path),
                      input_names=["mel"], output_names=["codes"],
                      dynamic_axes={"mel": {0: "batch", 2: "frames"}, "codes": {0: "batch", 2: "tokens"}},
                      opset_version=OPSET, do_constant_folding=True)
