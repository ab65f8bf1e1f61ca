#!/usr/bin/python3
"""train_tiny.py - train memwall's small llama model (models/tiny.gguf) on text that ships with Debian.

What it does (models/README.md has the figures of the committed run):
  1. Corpus: every regular file of /usr/share/common-licenses, then plain-text
     documentation under /usr/share/doc (README*, NEWS*, *.txt, *.md, copyright;
     gzip-compressed ones read with gzip), each kept whole when it is valid
     UTF-8, 1-64 KiB long and mostly prose, exact duplicates dropped, taken in
     the order of sha256(path) until a 4 MB budget is full. The file list and
     the sha256 of the corpus go into the GGUF and models/README.md; a
     different corpus is refused unless --allow-other-corpus is given.
  2. Hold-out: whole documents, those whose sha256(path) is 0 mod 20 plus the
     license text of smallest sha256(path), up to 200 KB; their text is
     written to models/tiny.heldout.txt (documents separated by a blank line).
  3. Tokenizer: BPE merges learned on the training text with SentencePiece's
     conventions (add_space_prefix, space -> U+2581), stored as a "llama"
     vocabulary: <unk>=0 <s>=1 </s>=2, the 256 byte tokens <0xNN> (type 6),
     the characters, then the merged pieces with score -rank. Text is encoded
     with the algorithm of llama.cpp's SPM tokenizer (docs/TOKENIZER.md),
     written here in Python (spm_encode), so memwall encodes the same ids.
  4. Model: llama (RMSNorm, RoPE normal mode on adjacent pairs, SwiGLU, GQA,
     tied embeddings), exactly as tests/ref/llama_ref.py computes it, trained
     with AdamW, warmup + cosine, fixed seed, 2 threads.
  5. Writes models/tiny.gguf (F32) with tests/ref/gguf_min.py's writer.

    nice -n 5 /usr/bin/python3 models/train_tiny.py            # the whole run
    python3 models/train_tiny.py --encode FILE [--no-bos]       # ids, no torch
    /usr/bin/python3 models/train_tiny.py --generate "The licensee may" --gen 30
"""
import argparse
import gzip
import hashlib
import heapq
import json
import math
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "ref"))

SPACE = "\u2581"
LICENSE_DIR = "/usr/share/common-licenses"
DOC_DIR = "/usr/share/doc"
CORPUS_BUDGET = 4_000_000        # characters of the whole corpus
HELDOUT_BUDGET = 200_000         # bytes of the held-out text
DOC_MIN, DOC_MAX = 1024, 65536   # characters of a doc file kept
DOC_NAME = re.compile(r"^(README.*|NEWS.*|.*\.txt|.*\.md|copyright)(\.gz)?$", re.I)

HP = dict(
    n_vocab=3072, n_ctx=256, n_embd=192, n_layer=4, n_head=6, n_head_kv=2, n_ff=512,
    eps=1e-5, rope_base=10000.0,
    seed=1234, batch=16, steps=360, warmup=40, lr=2e-3, lr_min=2e-4, wd=0.1,
    beta1=0.9, beta2=0.95, clip=1.0, threads=2,
)

# ids of the fixed test prompt's greedy continuation come from --generate
TEST_PROMPT = "The licensee may"


# ---- corpus ----------------------------------------------------------------

def sha(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def read_text(path):
    """The file's text (gunzipped when .gz), \\r\\n -> \\n; None if not UTF-8."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read(4 * DOC_MAX + 1)
        else:
            with open(path, "rb") as f:
                raw = f.read(4 * DOC_MAX + 1)
        t = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None
    return t.replace("\r\n", "\n").replace("\r", "\n")


def prose_like(t):
    """Mostly letters and spaces, no NUL or other odd controls."""
    if not t:
        return False
    if any(c in t for c in "\x00\x1b"):
        return False
    letters = sum(1 for c in t if c.isalpha() or c == " ")
    return letters >= 0.75 * len(t)


def collect_corpus():
    """[(path, text)] in corpus order: the licenses, then the doc files."""
    docs, seen = [], set()
    for name in sorted(os.listdir(LICENSE_DIR)):
        p = os.path.join(LICENSE_DIR, name)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        t = read_text(p)
        if t is None:
            continue
        h = sha(t)
        if h in seen:
            continue
        seen.add(h)
        docs.append((p, t))
    total = sum(len(t) for _, t in docs)
    cands = []
    for root, dirs, files in os.walk(DOC_DIR):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(root, name)
            if DOC_NAME.match(name) and not os.path.islink(p) and os.path.isfile(p):
                cands.append(p)
    cands.sort(key=lambda p: (sha(p), p))
    for p in cands:
        if total >= CORPUS_BUDGET:
            break
        t = read_text(p)
        if t is None or not (DOC_MIN <= len(t) <= DOC_MAX) or not prose_like(t):
            continue
        if total + len(t) > CORPUS_BUDGET:
            continue
        h = sha(t)
        if h in seen:
            continue
        seen.add(h)
        docs.append((p, t))
        total += len(t)
    return docs


def split_heldout(docs):
    """(train, heldout) lists of (path, text): whole documents."""
    lic = [d for d in docs if d[0].startswith(LICENSE_DIR + "/")]
    forced = min(lic, key=lambda d: sha(d[0]))[0]
    held, size = [], 0
    for d in sorted(docs, key=lambda d: sha(d[0])):
        if d[0] == forced or int(sha(d[0])[:8], 16) % 20 == 0:
            n = len(d[1].encode("utf-8")) + 2
            if d[0] == forced or size + n <= HELDOUT_BUDGET:
                held.append(d[0])
                size += n
    hs = set(held)
    return [d for d in docs if d[0] not in hs], [d for d in docs if d[0] in hs]


def corpus_sha(docs):
    h = hashlib.sha256()
    for p, t in docs:
        h.update(p.encode("utf-8") + b"\0" + t.encode("utf-8") + b"\0")
    return h.hexdigest()


# ---- tokenizer -------------------------------------------------------------

def normalize(text, add_space_prefix=True):
    if add_space_prefix:
        text = " " + text
    return text.replace(" ", SPACE)


WORD = re.compile(SPACE + "*[^" + SPACE + "\n]+|" + SPACE + "+|\n+")


def train_bpe(texts, n_vocab, min_char_count=3):
    """(tokens, scores, types) of a llama vocabulary learned on texts.

    Words (the pre-split only for learning: a run of U+2581 and the text up
    to the next one, runs of U+2581, runs of newlines) are counted; the
    characters seen at least min_char_count times become pieces; then pairs
    are merged, most frequent first (ties: the largest pair as strings), each new piece
    scored -rank, until the vocabulary is n_vocab long."""
    wc = {}
    for t in texts:
        for w in WORD.findall(normalize(t)):
            wc[w] = wc.get(w, 0) + 1
    cc = {}
    for w, n in wc.items():
        for c in w:
            cc[c] = cc.get(c, 0) + n
    chars = sorted(c for c, n in cc.items() if n >= min_char_count)
    chars.sort(key=lambda c: (-cc[c], c))
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    n_merges = n_vocab - len(tokens) - len(chars)
    if n_merges <= 0:
        raise SystemExit("train_tiny: vocabulary %d too small for %d characters" % (n_vocab, len(chars)))
    charset = set(chars)
    # words as lists of symbols; a character outside the set blocks merges
    words = [list(w) for w in wc]
    counts = [wc[w] for w in wc]
    pairs, where = {}, {}
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            if a in charset and b in charset:
                pairs[(a, b)] = pairs.get((a, b), 0) + counts[i]
                where.setdefault((a, b), set()).add(i)
    merges, pieces = [], set(chars)
    while len(merges) < n_merges and pairs:
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]   # ties: the largest pair
        a, b = best
        ab = a + b
        if ab not in pieces:
            merges.append(ab)
            pieces.add(ab)
        for i in sorted(where.pop(best, ())):
            w, n = words[i], counts[i]
            # remove the old pairs of this word, merge, add the new pairs
            for x, y in zip(w, w[1:]):
                if (x, y) in pairs:
                    pairs[(x, y)] -= n
                    if pairs[(x, y)] <= 0:
                        del pairs[(x, y)]
                    s = where.get((x, y))
                    if s is not None and (x, y) != best:
                        s.discard(i)
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(ab)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                if x in pieces and y in pieces:
                    pairs[(x, y)] = pairs.get((x, y), 0) + n
                    where.setdefault((x, y), set()).add(i)
        pairs.pop(best, None)
    scores = [0.0] * len(tokens)
    # merged pieces: -rank (rank 0 the first merge); characters below them
    char_base = -float(len(merges))
    for k, c in enumerate(chars):
        tokens.append(c)
        scores.append(char_base - 1.0 - k)
        types.append(1)
    for r, p in enumerate(merges):
        tokens.append(p)
        scores.append(-float(r))
        types.append(1)
    return tokens, scores, types


class Vocab:
    def __init__(self, tokens, scores, types, bos=1, eos=2, unk=0):
        self.tokens, self.scores, self.types = tokens, scores, types
        self.bos, self.eos, self.unk = bos, eos, unk
        self.index = {}
        for i, t in enumerate(tokens):
            self.index[t] = i          # the later id wins on duplicates, as in llama.cpp
        self.byte_id = {}
        for i, (t, ty) in enumerate(zip(tokens, types)):
            if ty == 6:
                self.byte_id[int(t[3:5], 16)] = i
        self._cache = {}

    def spm_encode(self, text, add_bos=True, add_space_prefix=True):
        """llama.cpp's llm_tokenizer_spm (docs/TOKENIZER.md), on the whole text."""
        ids = [self.bos] if add_bos else []
        if not text:
            return ids
        syms = list(normalize(text, add_space_prefix))
        n = len(syms)
        prev = list(range(-1, n - 1))
        nxt = list(range(1, n + 1))
        nxt[-1] = -1
        heap = []

        def push(left, right):
            if left == -1 or right == -1:
                return
            s = syms[left] + syms[right]
            i = self.index.get(s)
            if i is None:
                return
            # highest score first, then leftmost
            heapq.heappush(heap, (-self.scores[i], left, right, len(s)))

        for k in range(n - 1):
            push(k, k + 1)
        while heap:
            _, left, right, size = heapq.heappop(heap)
            if not syms[left] or not syms[right] or len(syms[left]) + len(syms[right]) != size \
                    or nxt[left] != right:
                continue
            syms[left] = syms[left] + syms[right]
            syms[right] = ""
            nxt[left] = nxt[right]
            if nxt[right] != -1:
                prev[nxt[right]] = left
            push(prev[left], left)
            push(left, nxt[left])
        k = 0
        while k != -1:
            s = syms[k]
            i = self.index.get(s)
            if i is not None:
                ids.append(i)
            else:
                bs = s.encode("utf-8")
                if all(b in self.byte_id for b in bs):
                    ids.extend(self.byte_id[b] for b in bs)
                else:
                    ids.append(self.unk)
            k = nxt[k]
        return ids

    def encode_fast(self, text):
        """spm_encode(text) without BOS, word by word with a cache.

        The same ids as spm_encode: no piece of the vocabulary crosses a
        word boundary of WORD (pieces are learned inside words, and a run of
        U+2581 that is a whole word is followed by a newline or the end), so
        the merges of one word never depend on another's. check_fast() tests
        it on the held-out text."""
        out = []
        for w in WORD.findall(normalize(text)):
            r = self._cache.get(w)
            if r is None:
                r = self.spm_encode(w, add_bos=False, add_space_prefix=False)
                self._cache[w] = r
            out.extend(r)
        return out

    def decode(self, ids):
        bs = bytearray()
        for i in ids:
            t, ty = self.tokens[i], self.types[i]
            if ty == 6:
                bs.append(int(t[3:5], 16))
            elif ty in (3, 5):
                continue
            elif ty == 2:
                bs.extend("\u2585".encode("utf-8"))
            else:
                bs.extend(t.replace(SPACE, " ").encode("utf-8"))
        s = bs.decode("utf-8", errors="replace")
        return s[1:] if s.startswith(" ") else s


def vocab_from_gguf(path):
    import gguf_min as g  # numpy only
    r = g.GGUFReader(path)
    kv = r.kv
    return Vocab(kv["tokenizer.ggml.tokens"], kv["tokenizer.ggml.scores"], kv["tokenizer.ggml.token_type"]), r


def vocab_from_gguf_nonumpy(path):
    """Read only the tokenizer keys, with struct (plain python3 has no numpy)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"GGUF":
        raise SystemExit("train_tiny: %s is not a GGUF file" % path)
    off = 8
    n_t, n_kv = struct.unpack_from("<QQ", data, off)
    off += 16
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    fmts = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

    def rstr(o):
        (n,) = struct.unpack_from("<Q", data, o)
        return data[o + 8:o + 8 + n].decode("utf-8"), o + 8 + n

    def rval(t, o):
        if t == 8:
            return rstr(o)
        if t == 9:
            et, n = struct.unpack_from("<IQ", data, o)
            o += 12
            out = []
            for _ in range(n):
                v, o = rval(et, o)
                out.append(v)
            return out, o
        return struct.unpack_from(fmts[t], data, o)[0], o + sizes[t]

    kv = {}
    for _ in range(n_kv):
        k, off = rstr(off)
        (t,) = struct.unpack_from("<I", data, off)
        off += 4
        v, off = rval(t, off)
        kv[k] = v
    return Vocab(kv["tokenizer.ggml.tokens"], kv.get("tokenizer.ggml.scores", [0.0] * len(kv["tokenizer.ggml.tokens"])),
                 kv.get("tokenizer.ggml.token_type", [1] * len(kv["tokenizer.ggml.tokens"])),
                 kv.get("tokenizer.ggml.bos_token_id", 1), kv.get("tokenizer.ggml.eos_token_id", 2),
                 kv.get("tokenizer.ggml.unknown_token_id", 0)), kv


# ---- model -----------------------------------------------------------------

def build_model(hp):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class RMSNorm(nn.Module):
        def __init__(self, n, eps):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(n))
            self.eps = eps

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            h, hd = hp["n_embd"], hp["n_embd"] // hp["n_head"]
            self.nh, self.nkv, self.hd = hp["n_head"], hp["n_head_kv"], hd
            self.attn_norm = RMSNorm(h, hp["eps"])
            self.q = nn.Linear(h, self.nh * hd, bias=False)
            self.k = nn.Linear(h, self.nkv * hd, bias=False)
            self.v = nn.Linear(h, self.nkv * hd, bias=False)
            self.o = nn.Linear(self.nh * hd, h, bias=False)
            self.ffn_norm = RMSNorm(h, hp["eps"])
            self.gate = nn.Linear(h, hp["n_ff"], bias=False)
            self.up = nn.Linear(h, hp["n_ff"], bias=False)
            self.down = nn.Linear(hp["n_ff"], h, bias=False)

        def forward(self, x, cos, sin, mask):
            B, T, _ = x.shape
            a = self.attn_norm(x)
            q = rope(self.q(a).view(B, T, self.nh, self.hd), cos, sin)
            k = rope(self.k(a).view(B, T, self.nkv, self.hd), cos, sin)
            v = self.v(a).view(B, T, self.nkv, self.hd)
            rep = self.nh // self.nkv
            k = k.repeat_interleave(rep, dim=2)   # query head j uses KV head j // rep
            v = v.repeat_interleave(rep, dim=2)
            q, k, v = (t.transpose(1, 2) for t in (q, k, v))
            s = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask[:T, :T]
            y = (F.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, self.nh * self.hd)
            x = x + self.o(y)
            m = self.ffn_norm(x)
            return x + self.down(F.silu(self.gate(m)) * self.up(m))

    def rope(x, cos, sin):
        # adjacent pairs (x[2i], x[2i+1]) rotated by pos * base^(-2i/n_rot)
        T = x.shape[1]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        c, s = cos[:T, None, :], sin[:T, None, :]
        return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            h, hd = hp["n_embd"], hp["n_embd"] // hp["n_head"]
            self.emb = nn.Embedding(hp["n_vocab"], h)
            self.blocks = nn.ModuleList(Block() for _ in range(hp["n_layer"]))
            self.norm = RMSNorm(h, hp["eps"])
            inv = hp["rope_base"] ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
            ang = torch.arange(hp["n_ctx"], dtype=torch.float64)[:, None] * inv[None, :]
            self.register_buffer("cos", torch.cos(ang).float(), persistent=False)
            self.register_buffer("sin", torch.sin(ang).float(), persistent=False)
            self.register_buffer("mask", torch.full((hp["n_ctx"], hp["n_ctx"]), float("-inf")).triu(1),
                                 persistent=False)

        def forward(self, idx):
            x = self.emb(idx)
            for b in self.blocks:
                x = b(x, self.cos, self.sin, self.mask)
            return self.norm(x) @ self.emb.weight.t()   # tied output

    return Llama()


def init_weights(model, hp):
    import torch
    std = 0.02
    for name, p in model.named_parameters():
        if p.dim() == 1:
            continue
        s = std
        if name.endswith("o.weight") or name.endswith("down.weight"):
            s = std / math.sqrt(2 * hp["n_layer"])
        torch.nn.init.normal_(p, 0.0, s)


def gguf_tensors(model, hp):
    """name -> float32 numpy array (PyTorch order), llama.cpp's names."""
    W = {"token_embd.weight": model.emb.weight}
    for i, b in enumerate(model.blocks):
        p = "blk.%d." % i
        W[p + "attn_norm.weight"] = b.attn_norm.weight
        W[p + "attn_q.weight"] = b.q.weight
        W[p + "attn_k.weight"] = b.k.weight
        W[p + "attn_v.weight"] = b.v.weight
        W[p + "attn_output.weight"] = b.o.weight
        W[p + "ffn_norm.weight"] = b.ffn_norm.weight
        W[p + "ffn_gate.weight"] = b.gate.weight
        W[p + "ffn_up.weight"] = b.up.weight
        W[p + "ffn_down.weight"] = b.down.weight
    W["output_norm.weight"] = model.norm.weight
    return {k: v.detach().float().numpy().copy() for k, v in W.items()}


def load_model(path):
    """(model, hp, vocab, kv) from a GGUF this script wrote."""
    import torch
    vocab, r = vocab_from_gguf(path)
    kv = r.kv
    hp = dict(HP)
    hp.update(n_vocab=len(vocab.tokens), n_ctx=kv["llama.context_length"], n_embd=kv["llama.embedding_length"],
              n_layer=kv["llama.block_count"], n_head=kv["llama.attention.head_count"],
              n_head_kv=kv["llama.attention.head_count_kv"], n_ff=kv["llama.feed_forward_length"],
              eps=kv["llama.attention.layer_norm_rms_epsilon"], rope_base=kv["llama.rope.freq_base"])
    model = build_model(hp)
    names = {"token_embd.weight": model.emb.weight, "output_norm.weight": model.norm.weight}
    for i, b in enumerate(model.blocks):
        p = "blk.%d." % i
        for n, t in (("attn_norm", b.attn_norm.weight), ("attn_q", b.q.weight), ("attn_k", b.k.weight),
                     ("attn_v", b.v.weight), ("attn_output", b.o.weight), ("ffn_norm", b.ffn_norm.weight),
                     ("ffn_gate", b.gate.weight), ("ffn_up", b.up.weight), ("ffn_down", b.down.weight)):
            names[p + n + ".weight"] = t
    with torch.no_grad():
        for n, t in names.items():
            t.copy_(torch.from_numpy(r.array(n)).reshape(t.shape))
    model.eval()
    return model, hp, vocab, kv


def greedy(model, hp, ids, n, margins=None):
    """n greedy tokens after ids; margins (a list) gets, per step, the gap
    between the largest and the second largest logit."""
    import torch
    ids = list(ids)
    out = []
    with torch.no_grad():
        for _ in range(n):
            ctx = ids[-hp["n_ctx"]:]
            logits = model(torch.tensor([ctx]))[0, -1]
            t = int(torch.argmax(logits))   # the first index of the largest
            if margins is not None:
                top = torch.topk(logits, 2).values
                margins.append(float(top[0] - top[1]))
            out.append(t)
            ids.append(t)
    return out


def evaluate(model, hp, stream, batch=16):
    """Mean cross-entropy (nats/token) over the non-overlapping ctx windows of stream
    (each window predicts its tokens 1..T from 0..T-1; a short last window too)."""
    import torch
    import torch.nn.functional as F
    T = hp["n_ctx"]
    wins = [stream[s:s + T + 1] for s in range(0, len(stream) - 1, T)]
    wins = [w for w in wins if len(w) >= 2]
    tot, n = 0.0, 0
    model.eval()
    with torch.no_grad():
        full = [w for w in wins if len(w) == T + 1]
        for i in range(0, len(full), batch):
            c = torch.tensor(full[i:i + batch])
            tot += float(F.cross_entropy(model(c[:, :-1]).reshape(-1, hp["n_vocab"]), c[:, 1:].reshape(-1),
                                         reduction="sum"))
            n += c[:, 1:].numel()
        for w in wins:
            if len(w) < T + 1:
                c = torch.tensor([w])
                tot += float(F.cross_entropy(model(c[:, :-1])[0], c[0, 1:], reduction="sum"))
                n += len(w) - 1
    model.train()
    return tot / n, n


# ---- the whole run ---------------------------------------------------------

def train(args):
    import numpy as np
    import torch
    import torch.nn.functional as F
    import gguf_min as g

    t_start = time.time()
    hp = dict(HP)
    if args.steps:
        hp["steps"] = args.steps
    torch.manual_seed(hp["seed"])
    torch.set_num_threads(hp["threads"])

    docs = collect_corpus()
    csha = corpus_sha(docs)
    print("corpus: %d files, %d characters, sha256 %s" % (len(docs), sum(len(t) for _, t in docs), csha), flush=True)
    committed = os.path.join(HERE, "tiny.train.json")
    if not args.expect_corpus and os.path.exists(committed):
        with open(committed) as f:
            args.expect_corpus = json.load(f)["corpus_sha256"]
    if args.expect_corpus and csha != args.expect_corpus:
        msg = "train_tiny: this machine's corpus (sha256 %s) is not the one of the committed model (%s)" % (
            csha, args.expect_corpus)
        if not args.allow_other_corpus:
            raise SystemExit(msg + "; the packages under /usr/share/doc differ. --allow-other-corpus trains anyway")
        print("warning: " + msg, file=sys.stderr)
    train_docs, held_docs = split_heldout(docs)
    held_text = "\n\n".join(t.rstrip("\n") for _, t in held_docs) + "\n"
    print("held out: %d files, %d bytes" % (len(held_docs), len(held_text.encode("utf-8"))), flush=True)

    t0 = time.time()
    tokens, scores, types = train_bpe([t for _, t in train_docs], hp["n_vocab"])
    vocab = Vocab(tokens, scores, types)
    print("tokenizer: %d tokens (%.1f s)" % (len(tokens), time.time() - t0), flush=True)
    t0 = time.time()
    train_stream = []
    for _, t in train_docs:
        train_stream.append(vocab.bos)
        train_stream.extend(vocab.encode_fast(t))
    held_stream = []
    for _, t in held_docs:
        held_stream.append(vocab.bos)
        held_stream.extend(vocab.encode_fast(t))
    # the fast path must give the full algorithm's ids
    for _, t in held_docs:
        if vocab.encode_fast(t) != vocab.spm_encode(t, add_bos=False):
            raise SystemExit("train_tiny: encode_fast differs from spm_encode (a bug)")
    train_chars = sum(len(t) for _, t in train_docs)
    print("encoded: %d train tokens (%.2f chars/token), %d held-out tokens (%.1f s)" % (
        len(train_stream), train_chars / len(train_stream), len(held_stream), time.time() - t0), flush=True)

    model = build_model(hp)
    init_weights(model, hp)
    n_params = sum(p.numel() for p in model.parameters())
    print("model: %d parameters" % n_params, flush=True)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    nodecay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp["wd"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]))
    data = torch.tensor(train_stream, dtype=torch.long)
    gen = torch.Generator().manual_seed(hp["seed"])
    T, B = hp["n_ctx"], hp["batch"]
    log = []
    t0 = time.time()
    ema = None
    for step in range(hp["steps"]):
        if step < hp["warmup"]:
            lr = hp["lr"] * (step + 1) / hp["warmup"]
        else:
            p = (step - hp["warmup"]) / max(1, hp["steps"] - hp["warmup"])
            lr = hp["lr_min"] + 0.5 * (hp["lr"] - hp["lr_min"]) * (1 + math.cos(math.pi * p))
        for gr in opt.param_groups:
            gr["lr"] = lr
        starts = torch.randint(0, len(data) - T - 1, (B,), generator=gen)
        x = torch.stack([data[s:s + T] for s in starts])
        y = torch.stack([data[s + 1:s + T + 1] for s in starts])
        loss = F.cross_entropy(model(x).reshape(-1, hp["n_vocab"]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), hp["clip"])
        opt.step()
        lv = float(loss)
        ema = lv if ema is None else 0.95 * ema + 0.05 * lv
        if step % 25 == 0 or step == hp["steps"] - 1:
            el = time.time() - t0
            print("step %4d/%d  loss %.4f (ema %.4f)  lr %.2e  %.0f s" % (step, hp["steps"], lv, ema, lr, el),
                  flush=True)
            log.append((step, round(lv, 4)))
    train_time = time.time() - t0
    train_loss, _ = evaluate(model, hp, train_stream[:len(held_stream)])
    held_loss, held_n = evaluate(model, hp, held_stream)
    print("final: train loss %.4f (ppl %.2f), held-out loss %.4f (ppl %.2f) over %d tokens; %.0f s training" % (
        train_loss, math.exp(train_loss), held_loss, math.exp(held_loss), held_n, train_time), flush=True)

    model.eval()
    prompt_ids = vocab.spm_encode(TEST_PROMPT)
    cont = greedy(model, hp, prompt_ids, 30)
    print("greedy: %r -> %r" % (TEST_PROMPT, vocab.decode(prompt_ids + cont)), flush=True)

    w = g.GGUFWriter(alignment=32)
    w.add("general.architecture", "llama")
    w.add("general.name", "memwall tiny (Debian license texts and docs)")
    w.add("general.file_type", 0, g.T_U32)
    w.add("memwall.train.license_note", "trained on Debian's license texts and package documentation; "
          "models/README.md says on which terms the model and the held-out text are shipped")
    w.add("llama.vocab_size", hp["n_vocab"], g.T_U32)
    w.add("llama.context_length", hp["n_ctx"], g.T_U32)
    w.add("llama.embedding_length", hp["n_embd"], g.T_U32)
    w.add("llama.block_count", hp["n_layer"], g.T_U32)
    w.add("llama.feed_forward_length", hp["n_ff"], g.T_U32)
    w.add("llama.rope.dimension_count", hp["n_embd"] // hp["n_head"], g.T_U32)
    w.add("llama.attention.head_count", hp["n_head"], g.T_U32)
    w.add("llama.attention.head_count_kv", hp["n_head_kv"], g.T_U32)
    w.add("llama.attention.layer_norm_rms_epsilon", hp["eps"], g.T_F32)
    w.add("llama.rope.freq_base", hp["rope_base"], g.T_F32)
    w.add("tokenizer.ggml.model", "llama")
    w.add("tokenizer.ggml.tokens", tokens, g.T_ARRAY, g.T_STRING)
    w.add("tokenizer.ggml.scores", scores, g.T_ARRAY, g.T_F32)
    w.add("tokenizer.ggml.token_type", types, g.T_ARRAY, g.T_I32)
    w.add("tokenizer.ggml.bos_token_id", 1, g.T_U32)
    w.add("tokenizer.ggml.eos_token_id", 2, g.T_U32)
    w.add("tokenizer.ggml.unknown_token_id", 0, g.T_U32)
    w.add("tokenizer.ggml.add_bos_token", True, g.T_BOOL)
    w.add("tokenizer.ggml.add_eos_token", False, g.T_BOOL)
    w.add("tokenizer.ggml.add_space_prefix", True, g.T_BOOL)
    w.add("memwall.train.script", "models/train_tiny.py")
    w.add("memwall.train.corpus_sha256", csha)
    w.add("memwall.train.corpus_files", [p for p, _ in docs], g.T_ARRAY, g.T_STRING)
    w.add("memwall.train.heldout_files", [p for p, _ in held_docs], g.T_ARRAY, g.T_STRING)
    w.add("memwall.train.hparams", json.dumps(hp, sort_keys=True))
    w.add("memwall.train.params", n_params, g.T_U64)
    w.add("memwall.train.tokens", len(train_stream), g.T_U64)
    w.add("memwall.train.heldout_tokens", len(held_stream), g.T_U64)
    w.add("memwall.train.train_loss", train_loss, g.T_F32)
    w.add("memwall.train.heldout_loss", held_loss, g.T_F32)
    w.add("memwall.train.heldout_ppl", math.exp(held_loss), g.T_F32)
    w.add("memwall.train.torch_version", torch.__version__)
    for name, a in gguf_tensors(model, hp).items():
        w.add_tensor(name, a, g.F32)
    out = args.out
    w.write(out)
    with open(os.path.join(os.path.dirname(out), "tiny.heldout.txt"), "w", encoding="utf-8") as f:
        f.write(held_text)
    gsha = hashlib.sha256(open(out, "rb").read()).hexdigest()
    summary = dict(
        corpus_sha256=csha, corpus_files=[[p, len(t.encode("utf-8")), sha(t)] for p, t in docs],
        heldout_files=[p for p, _ in held_docs], heldout_bytes=len(held_text.encode("utf-8")),
        hparams=hp, params=n_params, train_tokens=len(train_stream), heldout_tokens=len(held_stream),
        chars_per_token=train_chars / len(train_stream),
        train_loss=train_loss, heldout_loss=held_loss, heldout_ppl=math.exp(held_loss),
        train_ppl=math.exp(train_loss), train_seconds=train_time, total_seconds=time.time() - t_start,
        loss_log=log, test_prompt=TEST_PROMPT, test_prompt_ids=prompt_ids, test_greedy_ids=cont,
        test_greedy_text=vocab.decode(prompt_ids + cont), gguf_bytes=os.path.getsize(out), gguf_sha256=gsha,
        torch_version=torch.__version__, numpy_version=np.__version__)
    with open(os.path.join(os.path.dirname(out), "tiny.train.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("wrote %s (%d bytes, sha256 %s) in %.0f s" % (out, os.path.getsize(out), gsha, time.time() - t_start))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "tiny.gguf"))
    ap.add_argument("--steps", type=int, default=0, help="training steps (default %d)" % HP["steps"])
    ap.add_argument("--model", default=os.path.join(HERE, "tiny.gguf"), help="the GGUF for --encode/--generate")
    ap.add_argument("--encode", metavar="FILE", help="print FILE's ids (the script's SPM encoder), no torch")
    ap.add_argument("--decode", metavar="IDS", help="print the text of comma-separated ids, no torch")
    ap.add_argument("--no-bos", action="store_true")
    ap.add_argument("--generate", metavar="PROMPT", help="greedy continuation with the PyTorch model")
    ap.add_argument("--gen", type=int, default=30)
    ap.add_argument("--expect-corpus", default="",
                    help="refuse a corpus of another sha256 (default: the one in models/tiny.train.json)")
    ap.add_argument("--allow-other-corpus", action="store_true")
    ap.add_argument("--corpus-only", action="store_true", help="print the corpus files and sha256, no training")
    a = ap.parse_args(argv)
    if a.encode or a.decode:
        vocab, _ = vocab_from_gguf_nonumpy(a.model)
        if a.decode:
            ids = [int(x) for x in a.decode.split(",") if x.strip()]
            sys.stdout.write(vocab.decode(ids))
            return 0
        with open(a.encode, "rb") as f:
            text = f.read().decode("utf-8")
        print(" ".join(str(i) for i in vocab.spm_encode(text, add_bos=not a.no_bos)))
        return 0
    if a.generate is not None:
        import torch
        torch.set_num_threads(HP["threads"])
        model, hp, vocab, _ = load_model(a.model)
        ids = vocab.spm_encode(a.generate, add_bos=not a.no_bos)
        margins = []
        out = greedy(model, hp, ids, a.gen, margins)
        print("prompt ids: " + ",".join(map(str, ids)))
        print("greedy ids: " + ",".join(map(str, out)))
        print("smallest top-1/top-2 logit gap: %.4g (step %d)" % (min(margins), margins.index(min(margins))))
        print("text: " + vocab.decode(ids + out))
        return 0
    if a.corpus_only:
        docs = collect_corpus()
        tr, he = split_heldout(docs)
        for p, t in docs:
            print("%s %d%s" % (p, len(t.encode("utf-8")), " heldout" if any(p == q for q, _ in he) else ""))
        print("sha256 %s, %d files, %d held out" % (corpus_sha(docs), len(docs), len(he)))
        return 0
    train(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
