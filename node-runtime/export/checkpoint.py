"""Loading the released ChatTTS weights (spec §1) onto chattts_arch modules, and writing a
synthetic checkpoint with the same file layout and key names (for tests: no real weights here).

Layout (HF `2Noise/ChatTTS`, `asset/` may be the given dir or its child):
  gpt/config.json, gpt/model.safetensors, Embed.safetensors, Decoder.safetensors,
  Vocos.safetensors, tokenizer/tokenizer.json, DVAE.safetensors (optional: the audio encoder)
Every key is accounted for: a missing or unexpected key is an error naming the key, because a
silently half-loaded model produces plausible-sounding garbage.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch

import safetensors_io
from chattts_arch import FSQ_LEVELS, NUM_VQ, VQ_GROUPS, Decoder, DVAEEncoder, Dims, Embed, GPTTrunk, Model, Vocos, htk_mel_filterbank

# Present in the release but unused by the decoder-path runtime (spec §1.1, §1.3).
GPT_DROPPED = {"embed_tokens.weight"}
# Non-parameter buffers some releases or transformers versions save: recomputed from the config,
# so they are dropped with a note. Any other unknown key still fails the load.
KNOWN_BUFFERS = {
    "gpt": [re.compile(r"^(layers\.\d+\.self_attn\.)?rotary_emb\.inv_freq$")],
    "embed": [],
    "decoder": [],
    "vocos": [],
    "dvae": [],
}
# DVAE.safetensors holds the whole DVAE; the encoder path is exported, its own decoder (the
# release decodes GPT hidden states with Decoder.safetensors) is not.
DVAE_UNUSED = re.compile(r"^(decoder\.|out_conv\.weight$)")
# torchaudio's MelSpectrogram buffers: checked against the runtime's mel (mel.ts), then dropped.
DVAE_MEL_WINDOW = "preprocessor_mel.mel_spec.spectrogram.window"
DVAE_MEL_FB = "preprocessor_mel.mel_spec.mel_scale.fb"

VOCOS_DROPPED = {"feature_extractor.mel_spec.spectrogram.window", "feature_extractor.mel_spec.mel_scale.fb",
                 "head.istft.window"}


class CheckpointError(RuntimeError):
    pass


def asset_dir(root: str | Path) -> Path:
    root = Path(root)
    for cand in (root / "asset", root):
        if (cand / "gpt" / "model.safetensors").is_file():
            return cand
    raise CheckpointError(f"{root}: no gpt/model.safetensors under it or under asset/")


def _fold_weight_norm(sd: dict[str, torch.Tensor], prefix: str) -> torch.Tensor:
    g = sd.pop(f"{prefix}.parametrizations.weight.original0")
    v = sd.pop(f"{prefix}.parametrizations.weight.original1")
    # torch weight_norm(dim=0): W[r] = g[r] · v[r] / ‖v[r]‖ (spec §2.2)
    return g.reshape(-1, 1) * v / v.norm(dim=1, keepdim=True)


def _strict_load(module: torch.nn.Module, sd: dict[str, torch.Tensor], what: str) -> None:
    expected = set(module.state_dict().keys())
    got = set(sd.keys())
    missing, unexpected = sorted(expected - got), sorted(got - expected)
    if missing or unexpected:
        raise CheckpointError(f"{what}: missing keys {missing[:8]}{'…' if len(missing) > 8 else ''}, "
                              f"unexpected keys {unexpected[:8]}{'…' if len(unexpected) > 8 else ''}")
    for k, t in module.state_dict().items():
        if tuple(t.shape) != tuple(sd[k].shape):
            raise CheckpointError(f"{what}: {k} has shape {tuple(sd[k].shape)}, expected {tuple(t.shape)}")
    module.load_state_dict(sd, strict=True)


def _count(prefix_re: str, keys) -> int:
    idx = {int(m.group(1)) for k in keys if (m := re.match(prefix_re, k))}
    if idx != set(range(len(idx))):
        raise CheckpointError(f"non-contiguous layer indices for {prefix_re}: {sorted(idx)}")
    return len(idx)


def load_checkpoint(root: str | Path) -> Model:
    a = asset_dir(root)
    cfg = json.loads((a / "gpt" / "config.json").read_text())
    gpt = safetensors_io.load(a / "gpt" / "model.safetensors")
    emb = safetensors_io.load(a / "Embed.safetensors")
    dec = safetensors_io.load(a / "Decoder.safetensors")
    voc = safetensors_io.load(a / "Vocos.safetensors")
    for what, sd in (("gpt", gpt), ("embed", emb), ("decoder", dec), ("vocos", voc)):
        known = [k for k in sd if any(p.match(k) for p in KNOWN_BUFFERS[what])]
        for k in known:
            del sd[k]
        if known:
            print(f"{what}: ignored {len(known)} known non-parameter buffer(s), e.g. {known[0]}")
    for k in GPT_DROPPED:
        if k not in gpt:
            raise CheckpointError(f"gpt: missing key {k}")
        del gpt[k]
    for k in VOCOS_DROPPED:
        if k not in voc:
            raise CheckpointError(f"vocos: missing key {k}")
        del voc[k]

    # Dims come from config.json (GPT) and from tensor shapes (the rest), so the same code loads
    # the release and the small synthetic checkpoints used in tests.
    try:
        d = Dims(
            hidden=int(cfg["hidden_size"]), intermediate=int(cfg["intermediate_size"]),
            layers=int(cfg["num_hidden_layers"]), heads=int(cfg["num_attention_heads"]),
            text_vocab=int(emb["emb_text.weight"].shape[0]),
            dec_idim=int(dec["out_conv.weight"].shape[1]),
            dec_hidden=int(dec["decoder.conv_in.2.weight"].shape[0]),
            dec_layers=_count(r"decoder\.decoder_block\.(\d+)\.", dec.keys()),
            dec_bn=int(dec["decoder.conv_in.0.weight"].shape[0]),
            voc_dim=int(voc["backbone.embed.weight"].shape[0]),
            voc_intermediate=int(voc["backbone.convnext.0.pwconv1.weight"].shape[0]),
            voc_layers=_count(r"backbone\.convnext\.(\d+)\.", voc.keys()),
            rms_eps=float(cfg.get("rms_norm_eps", 1e-6)), rope_theta=float(cfg.get("rope_theta", 10000.0)),
        )
    except KeyError as e:
        raise CheckpointError(f"missing key {e} needed to infer dimensions") from e
    if cfg.get("num_key_value_heads", d.heads) != d.heads:
        raise CheckpointError("grouped-query attention is not part of ChatTTS's config (spec §2.1)")
    if cfg.get("rope_scaling") not in (None, {}):
        raise CheckpointError(f"unsupported rope_scaling {cfg['rope_scaling']}")

    trunk, embed, decoder, vocos = GPTTrunk(d), Embed(d), Decoder(d), Vocos(d)
    _strict_load(trunk, gpt, "gpt")
    folded = dict(emb)
    folded["head_text.weight"] = _fold_weight_norm(folded, "head_text")
    for i in range(NUM_VQ):
        folded[f"head_code.{i}.weight"] = _fold_weight_norm(folded, f"head_code.{i}")
    _strict_load(embed, folded, "embed")
    _strict_load(decoder, dec, "decoder")
    _strict_load(vocos, voc, "vocos")
    dvae_encoder, d = load_dvae_encoder(a, d)
    return Model(d, trunk, embed, decoder, vocos, dvae_encoder).eval()


def load_dvae_encoder(a: Path, d: Dims) -> tuple[DVAEEncoder | None, Dims]:
    """The encoder (None without DVAE.safetensors) and `d` with the encoder's dimensions."""
    path = a / "DVAE.safetensors"
    if not path.is_file():
        print("warning: no DVAE.safetensors: the pack gets no dvae_encoder graph (no first-sentence audio prompt)")
        return None, d
    sd = safetensors_io.load(path)
    known = [k for k in sd if any(p.match(k) for p in KNOWN_BUFFERS["dvae"])]
    for k in known:
        del sd[k]
    unused = [k for k in sd if DVAE_UNUSED.match(k)]
    for k in unused:
        del sd[k]
    # The mel the weights were trained on must be the one the runtime computes.
    if DVAE_MEL_WINDOW in sd:
        w = sd.pop(DVAE_MEL_WINDOW).float()
        if w.shape != (1024,) or not torch.allclose(w, torch.hann_window(1024), atol=1e-6):
            raise CheckpointError(f"dvae: {DVAE_MEL_WINDOW} is not a periodic Hann window of 1024")
    if DVAE_MEL_FB in sd:
        fb = sd.pop(DVAE_MEL_FB).float()
        if fb.shape != (513, 100) or not torch.allclose(fb, htk_mel_filterbank(), atol=1e-5):
            raise CheckpointError(f"dvae: {DVAE_MEL_FB} is not the HTK filterbank (100 mels, 0–12 kHz) the runtime computes")
    try:
        ed = Dims(**{**d.to_json(),
                     "enc_dim": int(sd["downsample_conv.0.weight"].shape[0]),
                     "enc_hidden": int(sd["encoder.conv_in.2.weight"].shape[0]),
                     "enc_layers": _count(r"encoder\.decoder_block\.(\d+)\.", sd.keys()),
                     "enc_bn": int(sd["encoder.conv_in.0.weight"].shape[0]),
                     "enc_odim": int(sd["encoder.conv_out.weight"].shape[0])})
    except KeyError as e:
        raise CheckpointError(f"dvae: missing key {e} needed to infer dimensions") from e
    if ed.enc_odim % VQ_GROUPS or sd.get("vq_layer.quantizer.rvqs.0.project_in.weight", torch.zeros(0, 0)).shape[0] != len(FSQ_LEVELS):
        raise CheckpointError(f"dvae: expected {VQ_GROUPS} FSQ groups of {len(FSQ_LEVELS)} levels ({NUM_VQ} code rows)")
    enc = DVAEEncoder(ed)
    _strict_load(enc, sd, "dvae")
    if known or unused:
        print(f"dvae: ignored {len(known) + len(unused)} tensor(s) outside the encoder path, e.g. {(known + unused)[0]}")
    return enc, ed


def write_synthetic_checkpoint(m: Model, out: str | Path, tokenizer: dict) -> None:
    """The inverse of load_checkpoint: the release's files and key names, weight norm unfolded
    into (g, v) with a non-trivial g, plus the unused tensors the release carries."""
    a = Path(out) / "asset"
    (a / "gpt").mkdir(parents=True, exist_ok=True)
    (a / "tokenizer").mkdir(parents=True, exist_ok=True)
    d = m.dims
    cfg = {"architectures": ["LlamaModel"], "hidden_size": d.hidden, "intermediate_size": d.intermediate,
           "num_hidden_layers": d.layers, "num_attention_heads": d.heads, "num_key_value_heads": d.heads,
           "hidden_act": "silu", "rms_norm_eps": d.rms_eps, "rope_theta": d.rope_theta, "rope_scaling": None,
           "max_position_embeddings": 4096, "vocab_size": 32000, "torch_dtype": "float32"}
    (a / "gpt" / "config.json").write_text(json.dumps(cfg, indent=2))
    gpt = dict(m.trunk.state_dict())
    gpt["embed_tokens.weight"] = torch.randn(32, d.hidden)
    safetensors_io.save(a / "gpt" / "model.safetensors", gpt)
    emb: dict[str, torch.Tensor] = {}
    for k, t in m.embed.state_dict().items():
        mm = re.match(r"(head_text|head_code\.\d+)\.weight$", k)
        if mm:
            g = t.norm(dim=1, keepdim=True)
            v = t / g * 2.5  # scale v so folding must really use g·v/‖v‖
            emb[f"{mm.group(1)}.parametrizations.weight.original0"] = g
            emb[f"{mm.group(1)}.parametrizations.weight.original1"] = v
        else:
            emb[k] = t
    safetensors_io.save(a / "Embed.safetensors", emb)
    safetensors_io.save(a / "Decoder.safetensors", dict(m.decoder.state_dict()))
    voc = dict(m.vocos.state_dict())
    voc["feature_extractor.mel_spec.spectrogram.window"] = torch.hann_window(1024)
    voc["feature_extractor.mel_spec.mel_scale.fb"] = torch.zeros(513, 100)
    voc["head.istft.window"] = torch.hann_window(1024)
    safetensors_io.save(a / "Vocos.safetensors", voc)
    if m.dvae_encoder is not None:
        dv: dict[str, torch.Tensor] = {}
        for k, t in m.dvae_encoder.state_dict().items():
            dv[k] = t
        # The release's DVAE carries its own decoder and the mel buffers too.
        g = torch.Generator().manual_seed(7)
        dd = d.enc_dim
        for k, t in _dvae_decoder_shapes(dd).items():
            dv[k] = 0.05 * torch.randn(t, generator=g)
        dv["out_conv.weight"] = 0.05 * torch.randn((N_MELS_DVAE, dd, 3), generator=g)
        dv[DVAE_MEL_WINDOW] = torch.hann_window(1024)
        dv[DVAE_MEL_FB] = htk_mel_filterbank()
        safetensors_io.save(a / "DVAE.safetensors", dv)
    (a / "tokenizer" / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False))


N_MELS_DVAE = 100


def _dvae_decoder_shapes(dim: int) -> dict[str, tuple[int, ...]]:
    """The DVAE's own decoder (idim = odim = dim, as upstream's DVAE config): its key shapes."""
    from chattts_arch import DVAEDecoder
    dec = DVAEDecoder(dim, dim, dim, 2, max(1, dim // 2))
    return {f"decoder.{k}": tuple(t.shape) for k, t in dec.state_dict().items()}
