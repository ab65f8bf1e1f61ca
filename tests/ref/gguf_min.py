#!/usr/bin/python3
"""gguf_min.py - a small, independent GGUF v3 reader and writer (numpy + struct).

Part of memwall's reference test suite (tests/ref/README.md). It knows:
  * metadata of every GGUF value type, arrays included (nested too);
  * tensor infos, general.alignment, the data section;
  * dequantization of F32, F16, BF16, Q8_0 and Q4_0 to float32 numpy arrays;
  * quantization of float32 to those types, bit-exact with ggml's reference
    quantizers (quantize_row_q8_0_ref / quantize_row_q4_0_ref arithmetic, all
    in float32; f16 scales rounded to nearest even).

Shapes: a GGUF tensor with dims [d0, d1, ...] (d0 contiguous, ggml order) is
the numpy array of shape [..., d1, d0] (PyTorch order): a llama weight
[k, n] in GGUF is W[n, k] here, y = W @ x.

    r = GGUFReader("m.gguf")
    r.kv["llama.block_count"]          -> python value (list for arrays)
    r.kv_types["llama.block_count"]    -> GGUF value type id
    r.tensors["blk.0.attn_q.weight"]   -> TensorInfo(name, dims, type, offset, nbytes)
    r.array("blk.0.attn_q.weight")     -> float32 numpy array, PyTorch order
    r.raw("blk.0.attn_q.weight")       -> the tensor's bytes

    w = GGUFWriter(alignment=32)
    w.add("general.architecture", "llama")          # type inferred
    w.add("llama.block_count", 2, T_U32)             # or given
    w.add("tokenizer.ggml.scores", [0.0, 1.0], T_ARRAY, T_F32)
    w.add_tensor("token_embd.weight", np_array_f32, Q8_0)
    w.write("m.gguf")

Run `/usr/bin/python3 tests/ref/gguf_min.py --self-test` for its own checks.
"""
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# metadata value types
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, \
    T_U64, T_I64, T_F64 = range(13)

_SCALAR_FMT = {
    T_U8: "<B", T_I8: "<b", T_U16: "<H", T_I16: "<h", T_U32: "<I", T_I32: "<i",
    T_F32: "<f", T_BOOL: "<?", T_U64: "<Q", T_I64: "<q", T_F64: "<d",
}
_SCALAR_NP = {
    T_U8: "<u1", T_I8: "<i1", T_U16: "<u2", T_I16: "<i2", T_U32: "<u4", T_I32: "<i4",
    T_F32: "<f4", T_BOOL: "<u1", T_U64: "<u8", T_I64: "<i8", T_F64: "<f8",
}

# ggml tensor types handled here
F32, F16, Q4_0, Q8_0, BF16 = 0, 1, 2, 8, 30
Q4_K, Q5_K, Q6_K = 12, 13, 14  # read (dequantized) only; not written by quantize()
TYPE_NAMES = {F32: "F32", F16: "F16", Q4_0: "Q4_0", Q8_0: "Q8_0", BF16: "BF16",
              Q4_K: "Q4_K", Q5_K: "Q5_K", Q6_K: "Q6_K"}
TYPE_BY_NAME = {v.lower(): k for k, v in TYPE_NAMES.items()}
# (elements per block, bytes per block)
BLOCK = {F32: (1, 4), F16: (1, 2), BF16: (1, 2), Q8_0: (32, 34), Q4_0: (32, 18),
         Q4_K: (256, 144), Q5_K: (256, 176), Q6_K: (256, 210)}
QK = 32


class GGUFError(Exception):
    pass


def type_name(t):
    return TYPE_NAMES.get(t, "type%d" % t)


def row_bytes(t, n):
    """Bytes of n elements of type t (n a multiple of the block size)."""
    if t not in BLOCK:
        raise GGUFError("unsupported ggml type %d" % t)
    be, bb = BLOCK[t]
    if n % be:
        raise GGUFError("%d elements of %s: not a multiple of the block (%d)" % (n, type_name(t), be))
    return n // be * bb


# ---- scalar conversions ------------------------------------------------------

def f32_to_f16_bits(x):
    """float32 array -> uint16 IEEE binary16 bits, round to nearest even."""
    return np.asarray(x, dtype=np.float32).astype(np.float16).view(np.uint16)


def f16_bits_to_f32(h):
    return np.asarray(h, dtype=np.uint16).view(np.float16).astype(np.float32)


def f32_to_bf16_bits(x):
    """float32 -> bf16 bits: (u + 0x7fff + ((u >> 16) & 1)) >> 16, NaN kept quiet."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    r[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return r


def bf16_bits_to_f32(h):
    return (np.asarray(h, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def round_half_away(x):
    """C roundf on float32 values (exact: the sum is done in float64)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


# ---- quantization (ggml reference arithmetic, float32 throughout) ------------

def quantize_q8_0(x):
    """float32 [..., k] (k % 32 == 0) -> bytes of Q8_0 blocks, row after row.

    Per block: amax = max|x|; d = amax / 127; id = d ? 1/d : 0; the stored
    scale is f16(d); q[j] = roundf(x[j] * id) (half away from zero)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[-1] % QK:
        raise GGUFError("Q8_0 rows must be a multiple of 32 long")
    b = x.reshape(-1, QK)
    amax = np.max(np.abs(b), axis=1)
    d = (amax / np.float32(127.0)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idv = np.where(d != 0, np.float32(1.0) / d, np.float32(0.0)).astype(np.float32)
    x0 = (b * idv[:, None]).astype(np.float32)
    q = round_half_away(x0).astype(np.int8)
    out = np.empty((b.shape[0], 34), dtype=np.uint8)
    out[:, 0:2] = f32_to_f16_bits(d).astype("<u2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def quantize_q4_0(x):
    """float32 [..., k] (k % 32 == 0) -> bytes of Q4_0 blocks, row after row.

    Per block: max = the first element of largest magnitude, with its sign;
    d = max / -8; id = d ? 1/d : 0; stored scale f16(d);
    q[j] = min(15, (int8)(x[j]*id + 8.5f)) (float32 sum, truncation);
    byte j = q[j] | q[j+16] << 4."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[-1] % QK:
        raise GGUFError("Q4_0 rows must be a multiple of 32 long")
    b = x.reshape(-1, QK)
    idx = np.argmax(np.abs(b), axis=1)          # first of the largest
    mx = b[np.arange(b.shape[0]), idx]
    d = (mx / np.float32(-8.0)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idv = np.where(d != 0, np.float32(1.0) / d, np.float32(0.0)).astype(np.float32)
    x0 = (b * idv[:, None]).astype(np.float32)
    s = (x0 + np.float32(8.5)).astype(np.float32)
    q = np.minimum(15, np.trunc(s).astype(np.int64).astype(np.int8)).astype(np.uint8)
    out = np.empty((b.shape[0], 18), dtype=np.uint8)
    out[:, 0:2] = f32_to_f16_bits(d).astype("<u2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = (q[:, :16] & 0x0F) | ((q[:, 16:] & 0x0F) << 4)
    return out.tobytes()


def dequantize(buf, t, n):
    """bytes of n elements of type t -> float32 numpy array of n values."""
    buf = memoryview(buf)
    nb = row_bytes(t, n)
    if len(buf) < nb:
        raise GGUFError("short tensor data: %d bytes for %d elements of %s" % (len(buf), n, type_name(t)))
    a = np.frombuffer(buf, dtype=np.uint8, count=nb)
    if t == F32:
        return a.view("<f4").astype(np.float32)
    if t == F16:
        return f16_bits_to_f32(a.view("<u2"))
    if t == BF16:
        return bf16_bits_to_f32(a.view("<u2"))
    if t == Q8_0:
        blk = a.reshape(-1, 34)
        d = f16_bits_to_f32(np.ascontiguousarray(blk[:, 0:2]).view("<u2").reshape(-1))
        q = np.ascontiguousarray(blk[:, 2:]).view(np.int8).astype(np.float32)
        return (q * d[:, None]).reshape(-1).astype(np.float32)
    if t == Q4_0:
        blk = a.reshape(-1, 18)
        d = f16_bits_to_f32(np.ascontiguousarray(blk[:, 0:2]).view("<u2").reshape(-1))
        qs = blk[:, 2:]
        lo = (qs & 0x0F).astype(np.int32) - 8
        hi = (qs >> 4).astype(np.int32) - 8
        q = np.concatenate([lo, hi], axis=1).astype(np.float32)
        return (q * d[:, None]).reshape(-1).astype(np.float32)
    if t in (Q4_K, Q5_K, Q6_K):
        return _dequantize_k(a, t)
    raise GGUFError("unsupported ggml type %d" % t)


def _k_nibbles(qs):
    """[nb, 128] bytes of 4-bit quants -> [nb, 256]: each 32 bytes hold 64
    weights, the low nibbles first, then the high ones."""
    g4 = qs.reshape(-1, 4, 32)
    return np.concatenate([g4 & 0x0F, g4 >> 4], axis=2).reshape(-1, 256).astype(np.int32)


def _dequantize_k(a, t):
    """K-quant super-blocks of 256 (ggml's block_q4_K / q5_K / q6_K) -> float32.

    Q4_K/Q5_K: d, dmin (f16), 12 bytes of 6-bit scale/min pairs for 8
    sub-blocks of 32 (sub-blocks 0-3: low 6 bits of bytes j / j+4; 4-7: the
    nibbles of byte j+4 plus the top 2 bits of bytes j-4 / j), Q5_K's 32 bytes
    of fifth bits (bit 2c / 2c+1 of byte l: weights 64c+l / 64c+32+l), 128
    bytes of nibbles; w = d*sc*q - dmin*m. Q6_K: 128 bytes of low 4 bits, 64
    of high 2 bits, 16 int8 scales (sub-blocks of 16), d; w = d*sc*(q-32)."""
    if t == Q6_K:
        blk = a.reshape(-1, 210)
        ql, qh = blk[:, :128].astype(np.int32), blk[:, 128:192].astype(np.int32)
        sc = np.ascontiguousarray(blk[:, 192:208]).view(np.int8).astype(np.float32)
        d = f16_bits_to_f32(np.ascontiguousarray(blk[:, 208:210]).view("<u2").reshape(-1))
        halves = []
        for h in range(2):
            l4 = ql[:, 64 * h:64 * h + 64]
            h2 = qh[:, 32 * h:32 * h + 32]
            low = [l4[:, :32] & 15, l4[:, 32:] & 15, l4[:, :32] >> 4, l4[:, 32:] >> 4]
            halves += [low[i] | (((h2 >> (2 * i)) & 3) << 4) for i in range(4)]
        q = np.concatenate(halves, axis=1) - 32                   # [nb, 256]
        w = d[:, None] * np.repeat(sc, 16, axis=1) * q.astype(np.float32)
        return w.reshape(-1).astype(np.float32)
    bb = 144 if t == Q4_K else 176
    blk = a.reshape(-1, bb)
    d = f16_bits_to_f32(np.ascontiguousarray(blk[:, 0:2]).view("<u2").reshape(-1))
    dmin = f16_bits_to_f32(np.ascontiguousarray(blk[:, 2:4]).view("<u2").reshape(-1))
    s = blk[:, 4:16].astype(np.int32)
    sc = np.concatenate([s[:, 0:4] & 63, (s[:, 8:12] & 15) | ((s[:, 0:4] >> 6) << 4)], axis=1)
    mn = np.concatenate([s[:, 4:8] & 63, (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)], axis=1)
    q = _k_nibbles(blk[:, bb - 128:])
    if t == Q5_K:
        qh = blk[:, 16:48].astype(np.int32)                       # [nb, 32]
        bits = [(qh >> i) & 1 for i in range(8)]                  # bit i: sub-block i
        q = q | (np.concatenate(bits, axis=1) << 4)
    w = (d[:, None] * np.repeat(sc, 32, axis=1).astype(np.float32) * q.astype(np.float32)
         - dmin[:, None] * np.repeat(mn, 32, axis=1).astype(np.float32))
    return w.reshape(-1).astype(np.float32)


def quantize(x, t):
    """float32 array -> bytes of type t (rows along the last axis)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if t == F32:
        return x.astype("<f4").tobytes()
    if t == F16:
        return f32_to_f16_bits(x).astype("<u2").tobytes()
    if t == BF16:
        return f32_to_bf16_bits(x).astype("<u2").tobytes()
    if t == Q8_0:
        return quantize_q8_0(x)
    if t == Q4_0:
        return quantize_q4_0(x)
    raise GGUFError("unsupported ggml type %d" % t)


def round_trip(x, t):
    """x as it comes back from storage as type t (float32)."""
    x = np.asarray(x, dtype=np.float32)
    return dequantize(quantize(x, t), t, x.size).reshape(x.shape)


# ---- reader --------------------------------------------------------------------

class TensorInfo:
    __slots__ = ("name", "dims", "type", "offset", "nbytes", "n")

    def __init__(self, name, dims, t, offset):
        self.name, self.dims, self.type, self.offset = name, dims, t, offset
        n = 1
        for d in dims:
            n *= d
        self.n = n
        self.nbytes = row_bytes(t, n) if t in BLOCK else None

    @property
    def shape(self):
        """PyTorch/numpy order (dims reversed)."""
        return tuple(reversed(self.dims))

    def __repr__(self):
        return "TensorInfo(%s, dims=%s, %s, offset=%d)" % (self.name, list(self.dims), type_name(self.type), self.offset)


class GGUFReader:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.path = path
        self.pos = 0
        self.kv = {}
        self.kv_types = {}       # key -> type, (T_ARRAY, elem type) for arrays
        self.tensors = {}
        self._parse()

    # -- primitive reads
    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise GGUFError("truncated file at offset %d (want %d bytes)" % (self.pos, n))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def _scalar(self, t):
        fmt = _SCALAR_FMT[t]
        (v,) = struct.unpack(fmt, self._take(struct.calcsize(fmt)))
        if t == T_BOOL and v not in (0, 1, False, True):
            raise GGUFError("bool value not 0 or 1")
        return v

    def _string(self):
        (n,) = struct.unpack("<Q", self._take(8))
        if n > len(self.data) - self.pos:
            raise GGUFError("string length %d past the end of the file" % n)
        return self._take(n).decode("utf-8")

    def _value(self, t):
        if t == T_STRING:
            return self._string(), T_STRING
        if t == T_ARRAY:
            (et,) = struct.unpack("<I", self._take(4))
            (n,) = struct.unpack("<Q", self._take(8))
            if n > len(self.data) - self.pos:
                raise GGUFError("array count %d past the end of the file" % n)
            if et in _SCALAR_NP and et != T_BOOL:
                size = np.dtype(_SCALAR_NP[et]).itemsize
                arr = np.frombuffer(self._take(n * size), dtype=_SCALAR_NP[et])
                return arr.tolist(), (T_ARRAY, et)
            vals = []
            sub = et
            for _ in range(n):
                v, sub = self._value(et)
                vals.append(v)
            return vals, (T_ARRAY, sub if et == T_ARRAY else et)
        if t in _SCALAR_FMT:
            v = self._scalar(t)
            return (bool(v) if t == T_BOOL else v), t
        raise GGUFError("unknown metadata value type %d" % t)

    def _parse(self):
        if self._take(4) != GGUF_MAGIC:
            raise GGUFError("not a GGUF file (bad magic)")
        (self.version,) = struct.unpack("<I", self._take(4))
        if self.version not in (2, 3):
            raise GGUFError("GGUF version %d not supported" % self.version)
        n_tensors, n_kv = struct.unpack("<QQ", self._take(16))
        for _ in range(n_kv):
            key = self._string()
            (t,) = struct.unpack("<I", self._take(4))
            v, vt = self._value(t)
            if key in self.kv:
                raise GGUFError("duplicate key %s" % key)
            self.kv[key] = v
            self.kv_types[key] = vt
        self.alignment = self.kv.get("general.alignment", DEFAULT_ALIGNMENT)
        if self.alignment <= 0 or self.alignment & (self.alignment - 1) or self.alignment % 8:
            raise GGUFError("bad general.alignment %d" % self.alignment)
        infos = []
        for _ in range(n_tensors):
            name = self._string()
            (nd,) = struct.unpack("<I", self._take(4))
            if nd < 1 or nd > 4:
                raise GGUFError("tensor %s: %d dims" % (name, nd))
            dims = list(struct.unpack("<%dQ" % nd, self._take(8 * nd)))
            t, off = struct.unpack("<IQ", self._take(12))
            if name in self.tensors:
                raise GGUFError("duplicate tensor %s" % name)
            if off % self.alignment:
                raise GGUFError("tensor %s: offset %d not aligned" % (name, off))
            ti = TensorInfo(name, dims, t, off)
            self.tensors[name] = ti
            infos.append(ti)
        a = self.alignment
        self.data_start = (self.pos + a - 1) // a * a
        for ti in infos:
            if ti.nbytes is not None and self.data_start + ti.offset + ti.nbytes > len(self.data):
                raise GGUFError("tensor %s: data past the end of the file" % ti.name)

    def raw(self, name):
        ti = self.tensors[name]
        if ti.nbytes is None:
            raise GGUFError("tensor %s: unsupported type %d" % (name, ti.type))
        s = self.data_start + ti.offset
        return memoryview(self.data)[s:s + ti.nbytes]

    def array(self, name):
        """The tensor as float32, numpy shape = GGUF dims reversed."""
        ti = self.tensors[name]
        return dequantize(self.raw(name), ti.type, ti.n).reshape(ti.shape)


# ---- writer --------------------------------------------------------------------

def _infer_type(v):
    if isinstance(v, bool):
        return T_BOOL
    if isinstance(v, int):
        return T_I32 if -2**31 <= v < 2**31 else T_I64
    if isinstance(v, float):
        return T_F32
    if isinstance(v, str):
        return T_STRING
    if isinstance(v, (list, tuple)):
        return T_ARRAY
    raise GGUFError("cannot infer a GGUF type for %r" % (v,))


class GGUFWriter:
    def __init__(self, alignment=DEFAULT_ALIGNMENT):
        if alignment <= 0 or alignment & (alignment - 1) or alignment % 8:
            raise GGUFError("alignment must be a power of two, multiple of 8")
        self.alignment = alignment
        self.kvs = []            # (key, type, elem type, value)
        self.tensors = []        # (name, dims, type, bytes)
        if alignment != DEFAULT_ALIGNMENT:
            self.add("general.alignment", alignment, T_U32)

    def add(self, key, value, t=None, elem_type=None):
        if t is None:
            t = _infer_type(value)
        if t == T_ARRAY and elem_type is None:
            if not value:
                raise GGUFError("%s: an empty array needs elem_type" % key)
            elem_type = _infer_type(value[0])
        if any(k == key for k, _, _, _ in self.kvs):
            raise GGUFError("duplicate key %s" % key)
        self.kvs.append((key, t, elem_type, value))

    def add_tensor(self, name, array, t):
        """array: float32, PyTorch shape; stored as GGUF type t."""
        array = np.asarray(array, dtype=np.float32)
        dims = list(reversed(array.shape))
        self.add_raw_tensor(name, dims, t, quantize(array, t))

    def add_raw_tensor(self, name, dims, t, data):
        n = 1
        for d in dims:
            n *= d
        if t in BLOCK and len(data) != row_bytes(t, n):
            raise GGUFError("%s: %d bytes for %d elements of %s" % (name, len(data), n, type_name(t)))
        if any(x[0] == name for x in self.tensors):
            raise GGUFError("duplicate tensor %s" % name)
        self.tensors.append((name, list(dims), t, bytes(data)))

    @staticmethod
    def _enc_string(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def _enc_value(self, t, v, et=None):
        if t == T_STRING:
            return self._enc_string(v)
        if t == T_ARRAY:
            if et is None:
                raise GGUFError("array without an element type")
            sub = None
            if et == T_ARRAY:          # nested: element arrays of one elem type
                sub = _infer_type(v[0][0]) if v and v[0] else T_I32
            out = [struct.pack("<IQ", et, len(v))]
            if et in _SCALAR_NP and et != T_BOOL:
                out.append(np.asarray(v, dtype=_SCALAR_NP[et]).tobytes())
            else:
                out.extend(self._enc_value(et, x, sub) for x in v)
            return b"".join(out)
        if t in _SCALAR_FMT:
            return struct.pack(_SCALAR_FMT[t], v)
        raise GGUFError("unknown metadata value type %d" % t)

    def to_bytes(self):
        a = self.alignment
        head = [GGUF_MAGIC, struct.pack("<IQQ", 3, len(self.tensors), len(self.kvs))]
        for key, t, et, v in self.kvs:
            head.append(self._enc_string(key) + struct.pack("<I", t) + self._enc_value(t, v, et))
        off = 0
        offsets = []
        for name, dims, t, data in self.tensors:
            offsets.append(off)
            head.append(self._enc_string(name) + struct.pack("<I", len(dims)) +
                        struct.pack("<%dQ" % len(dims), *dims) + struct.pack("<IQ", t, off))
            off = (off + len(data) + a - 1) // a * a
        h = b"".join(head)
        pad = (-len(h)) % a
        out = [h, b"\0" * pad]
        for (name, dims, t, data), o in zip(self.tensors, offsets):
            out.append(data)
            out.append(b"\0" * ((-len(data)) % a))
        return b"".join(out)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.to_bytes())


# ---- self-test -------------------------------------------------------------------

def _q8_0_scalar(x):
    """One block, the C code transcribed literally with float32 scalars."""
    f = np.float32
    amax = f(0.0)
    for v in x:
        amax = max(amax, abs(f(v)))
    d = f(amax / f(127))
    idv = f(f(1.0) / d) if d != 0 else f(0.0)
    qs = []
    for v in x:
        x0 = float(f(f(v) * idv))
        q = int(x0 + 0.5) if x0 >= 0 else -int(-x0 + 0.5)   # roundf
        qs.append(q)
    return struct.pack("<H", int(f32_to_f16_bits(d))) + struct.pack("<32b", *qs)


def _q4_0_scalar(x):
    f = np.float32
    amax, mx = f(0.0), f(0.0)
    for v in x:
        if amax < abs(f(v)):
            amax, mx = abs(f(v)), f(v)
    d = f(mx / f(-8))
    idv = f(f(1.0) / d) if d != 0 else f(0.0)
    qs = bytearray(16)
    for j in range(16):
        x0 = f(f(x[j]) * idv)
        x1 = f(f(x[j + 16]) * idv)
        a0 = min(15, int(f(x0 + f(8.5))))    # int() truncates toward zero
        a1 = min(15, int(f(x1 + f(8.5))))
        qs[j] = (a0 & 0xF) | ((a1 & 0xF) << 4)
    return struct.pack("<H", int(f32_to_f16_bits(d))) + bytes(qs)


def self_test(verbose=True):
    import os
    import tempfile
    rng = np.random.default_rng(7)
    fails = 0

    def check(cond, what):
        nonlocal fails
        if verbose or not cond:
            print("%s  %s" % ("ok  " if cond else "FAIL", what))
        if not cond:
            fails += 1

    # quantizers against literal scalar transcriptions, with ties and edge cases
    blocks = [rng.normal(0, 0.02, 32).astype(np.float32) for _ in range(200)]
    blocks.append(np.zeros(32, np.float32))
    e = np.zeros(32, np.float32); e[5] = -1.0; e[9] = 1.0; blocks.append(e)   # first max wins
    blocks.append((np.arange(32, dtype=np.float32) - 16) / np.float32(2))     # exact halves
    blocks.append(np.linspace(-127, 127, 32).astype(np.float32))
    blocks.append(np.full(32, 3.0, np.float32))
    ok8 = all(quantize_q8_0(b) == _q8_0_scalar(b) for b in blocks)
    ok4 = all(quantize_q4_0(b) == _q4_0_scalar(b) for b in blocks)
    check(ok8, "Q8_0 vectorized == scalar transcription (%d blocks)" % len(blocks))
    check(ok4, "Q4_0 vectorized == scalar transcription (%d blocks)" % len(blocks))
    # known values: a half rounds away from zero in Q8_0
    b = np.zeros(32, np.float32); b[0] = 127.0; b[1] = 2.5; b[2] = -2.5
    q = np.frombuffer(quantize_q8_0(b)[2:], np.int8)
    check(q[0] == 127 and q[1] == 3 and q[2] == -3, "Q8_0 roundf: 2.5 -> 3, -2.5 -> -3")
    b = np.zeros(32, np.float32); b[0] = -8.0; b[16] = 8.0; b[1] = 1.0
    blk = quantize_q4_0(b)
    d = f16_bits_to_f32(np.frombuffer(blk[:2], "<u2"))[0]
    check(d == 1.0 and blk[2] == 0x00 | (15 << 4) and blk[3] == 9 | (8 << 4),
          "Q4_0: d = max/-8, -8 -> 0, +8 -> 15 (clamped), 1 -> 9, nibbles j / j+16")
    # dequantization error bounds
    x = rng.normal(0, 1, (8, 256)).astype(np.float32)
    amax = np.abs(x.reshape(-1, 32)).max(1, keepdims=True)
    e8 = np.abs(round_trip(x, Q8_0) - x).reshape(-1, 32)
    # d/2 from rounding, plus 127 * |d - f16(d)| <= 127 * d * 2^-11 from the stored scale
    check(np.all(e8 <= amax / 127 * (0.5 + 127 * 2.0 ** -11) * 1.001 + 1e-7), "Q8_0 error <= d/2 + f16 scale error")
    e4 = np.abs(round_trip(x, Q4_0) - x).reshape(-1, 32)
    check(np.all(e4 <= amax / 8 * 1.01 + 1e-6), "Q4_0 error <= d")
    check(np.array_equal(round_trip(x, F32), x), "F32 exact")
    check(np.max(np.abs(round_trip(x, F16) - x) / np.maximum(np.abs(x), 1e-4)) < 2 ** -11 + 1e-9, "F16 rel error <= 2^-11")
    check(np.max(np.abs(round_trip(x, BF16) - x) / np.abs(x)) <= 2 ** -8, "BF16 rel error <= 2^-8")
    # BF16 rounding rule, NaN
    u = np.array([0x3F808000, 0x3F818000, 0x3F80FFFF, 0x7FC00001, 0x7F800001], np.uint32)
    got = f32_to_bf16_bits(u.view(np.float32)).tolist()
    check(got == [0x3F80, 0x3F82, 0x3F81, 0x7FC0, 0x7FC0], "BF16 round to nearest even, NaN stays quiet NaN: %s" % [hex(g) for g in got])
    # quantize of dequantized values is a fixed point for Q8_0
    y = round_trip(x, Q8_0)
    check(quantize(y, Q8_0) == quantize(x, Q8_0), "Q8_0 requantize of its own output is exact")

    # writer -> reader round trip with every metadata type
    w = GGUFWriter(alignment=64)
    meta = [
        ("t.u8", 200, T_U8, None), ("t.i8", -100, T_I8, None), ("t.u16", 60000, T_U16, None),
        ("t.i16", -30000, T_I16, None), ("t.u32", 4000000000, T_U32, None), ("t.i32", -2000000000, T_I32, None),
        ("t.f32", 0.5, T_F32, None), ("t.bool", True, T_BOOL, None), ("t.str", "héllo", T_STRING, None),
        ("t.u64", 2**63 + 5, T_U64, None), ("t.i64", -2**62, T_I64, None), ("t.f64", 1e-300, T_F64, None),
        ("t.arr_f32", [1.0, -2.5], T_ARRAY, T_F32), ("t.arr_str", ["a", "", "ccc"], T_ARRAY, T_STRING),
        ("t.arr_i32", [1, -2, 3], T_ARRAY, T_I32), ("t.arr_bool", [True, False], T_ARRAY, T_BOOL),
        ("t.arr_nested", [[1, 2], [3]], T_ARRAY, T_ARRAY), ("t.arr_empty", [], T_ARRAY, T_U8),
    ]
    for k, v, t, et in meta:
        w.add(k, v, t, et)
    tens = {}
    for t in (F32, F16, BF16, Q8_0, Q4_0):
        a = rng.normal(0, 0.02, (3, 64)).astype(np.float32)
        tens["w.%s" % type_name(t)] = (a, t)
        w.add_tensor("w.%s" % type_name(t), a, t)
    v1 = rng.normal(0, 1, 7).astype(np.float32)
    w.add_tensor("v1", v1, F32)                       # odd size: padding
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.gguf")
        w.write(p)
        r = GGUFReader(p)
        check(r.version == 3 and r.alignment == 64, "header: version 3, alignment 64")
        okm = True
        for k, v, t, et in meta:
            got = r.kv[k]
            want = v
            if t == T_F32:
                want = float(np.float32(v))
            if got != want:
                okm = False
                print("   %s: %r != %r" % (k, got, want))
            tt = r.kv_types[k]
            if (t == T_ARRAY and tt[0] != T_ARRAY) or (t != T_ARRAY and tt != t):
                okm = False
                print("   %s: type %r != %r" % (k, tt, t))
        check(okm, "metadata of all 13 value types round trip (nested and empty arrays too)")
        okt = all(np.array_equal(r.array(n), round_trip(a, t)) and r.tensors[n].type == t and
                  r.tensors[n].dims == [64, 3] for n, (a, t) in tens.items())
        check(okt, "tensors of F32/F16/BF16/Q8_0/Q4_0 round trip, dims reversed ([64, 3] for a (3, 64) array)")
        check(np.array_equal(r.array("v1"), v1), "odd-size F32 vector round trips")
        check(all((r.data_start + ti.offset) % 64 == 0 for ti in r.tensors.values()), "every tensor aligned to 64")
        # byte-identical re-serialization
        w2 = GGUFWriter(alignment=64)
        for k, v, t, et in meta:
            w2.add(k, v, t, et)
        for n, ti in r.tensors.items():
            w2.add_raw_tensor(n, ti.dims, ti.type, r.raw(n))
        check(w2.to_bytes() == r.data, "re-writing what was read gives the same bytes")
    print("gguf_min self-test: %d failure(s)" % fails)
    return fails == 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        sys.exit(0 if self_test() else 1)
    if len(sys.argv) > 1:
        r = GGUFReader(sys.argv[1])
        print("GGUF v%d, alignment %d, %d keys, %d tensors" % (r.version, r.alignment, len(r.kv), len(r.tensors)))
        for k, v in r.kv.items():
            s = repr(v)
            print("  %-40s %s" % (k, s if len(s) < 80 else s[:77] + "..."))
        for ti in r.tensors.values():
            print("  %-30s %-5s %s" % (ti.name, type_name(ti.type), ti.dims))
        sys.exit(0)
    print(__doc__)
