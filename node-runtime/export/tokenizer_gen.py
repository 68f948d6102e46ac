"""A small BERT WordPiece `tokenizer.json` with ChatTTS's 50 special tokens (spec §3), plus a
plain-Python reference of the HF BERT pipeline used to produce golden token ids.

The released tokenizer is bert-base-chinese (21,128 ids) + 50 added tokens. A random-weight pack
cannot ship it, so we generate one with the same structure: BertNormalizer (lower-case, CJK
isolation), BertPreTokenizer, WordPiece with `##` continuation, specials `normalized: false`, and
the same hazardous `truncation`/`padding` blocks (256) the real file carries, so the TypeScript side
is tested against them. `full=True` pads the base vocabulary with `[unusedN]` so the specials get
their real ids 21128..21177.
"""
from __future__ import annotations

import unicodedata

SPECIALS = (
    ["[Sasr]", "[Pasr]", "[Easr]", "[Stts]", "[Ptts]", "[Etts]", "[Sbreak]", "[Pbreak]", "[Ebreak]",
     "[uv_break]", "[v_break]", "[lbreak]", "[llbreak]", "[undefine]", "[laugh]", "[spk_emb]",
     "[empty_spk]", "[music]", "[pure]"]
    + [f"[break_{i}]" for i in range(8)] + [f"[laugh_{i}]" for i in range(3)]
    + [f"[oral_{i}]" for i in range(10)] + [f"[speed_{i}]" for i in range(10)]
)
assert len(SPECIALS) == 50

BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

_WORDS = ("hello world the this is a test of speech voice gateway model sound good morning and to "
          "it that for on with you we are be was text long sentence one two three quick brown fox "
          "jumps over lazy dog edge node runtime audio fast slow").split()
_CJK = "你好世界今天天气很不错我们是一个测试语音合成的模型中文英文句子这那有在了和人大小上下来去说话声音快慢早晨晚安谢"
_PUNCT = list(".,!?;:'\"()-[]") + list("。，、！？；：“”（）")


def base_vocab(full: bool) -> list[str]:
    v = list(BERT_SPECIALS)
    v += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    v += [str(d) for d in range(10)]
    v += _PUNCT
    v += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    v += ["##" + str(d) for d in range(10)]
    v += list(_CJK)
    v += _WORDS
    v += ["##s", "##ed", "##ing", "##ly", "##er"]
    seen, out = set(), []
    for t in v:
        if t not in seen:
            seen.add(t)
            out.append(t)
    if full:
        out += [f"[unused{i}]" for i in range(21128 - len(out))]
    return out


def tokenizer_json(full: bool) -> dict:
    vocab = base_vocab(full)
    ids = {t: i for i, t in enumerate(vocab)}
    for s in SPECIALS:
        ids[s] = len(ids)
    added = [
        {"id": ids[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for t in BERT_SPECIALS + SPECIALS
    ]
    st = lambda t: {"id": t, "ids": [ids[t]], "tokens": [t]}  # noqa: E731
    return {
        "version": "1.0",
        # Same blocks as the released file (spec §3.1): the runtime must NOT honour them.
        "truncation": {"direction": "Right", "max_length": 256, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": 256}, "direction": "Right", "pad_to_multiple_of": None,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": st("[CLS]"), "[SEP]": st("[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }


# ---------------------------------------------------------------------------------------------
# Reference encoder (HF BertNormalizer + BertPreTokenizer + WordPiece, add_special_tokens=False)


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _normalize(text: str) -> str:
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
            continue
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    s = "".join(out).lower()
    s = unicodedata.normalize("NFD", s)
    return "".join(c for c in s if unicodedata.category(c) != "Mn")


def _pretokenize(text: str) -> list[str]:
    words, cur = [], []
    for ch in text:
        if ch.isspace():
            if cur:
                words.append("".join(cur))
                cur = []
        elif _is_punct(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def _wordpiece(word: str, vocab: dict[str, int], unk: int) -> list[int]:
    if len(word) > 100:
        return [unk]
    out, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [unk]
        out.append(found)
        start = end
    return out


def encode(tok: dict, text: str) -> list[int]:
    vocab = tok["model"]["vocab"]
    added = {a["content"]: a["id"] for a in tok["added_tokens"]}
    unk = vocab["[UNK]"]
    ids: list[int] = []
    # Added tokens are matched verbatim before normalisation (normalized: false); longest first.
    names = sorted(added, key=len, reverse=True)
    i, seg = 0, []
    while i < len(text):
        hit = next((n for n in names if text.startswith(n, i)), None)
        if hit is None:
            seg.append(text[i])
            i += 1
            continue
        if seg:
            for w in _pretokenize(_normalize("".join(seg))):
                ids += _wordpiece(w, vocab, unk)
            seg = []
        ids.append(added[hit])
        i += len(hit)
    if seg:
        for w in _pretokenize(_normalize("".join(seg))):
            ids += _wordpiece(w, vocab, unk)
    return ids
