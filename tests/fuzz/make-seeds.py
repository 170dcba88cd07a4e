#!/usr/bin/env python3
"""Write the seed corpora of the libFuzzer targets in tests/fuzz/.

Usage: make-seeds.py [OUTDIR]     (default: the corpus/ directory next to
                                   this script)

Writes OUTDIR/<target>/<seed> for the targets vring, rsc, elf, ctl, conf
and rpmsg. Each target directory is emptied first, so the output depends
only on this script (and on tests/loader/gen-corpus.py, which provides
the resource-table and ELF builders). Python 3 standard library only.

The vring input format is the one fuzz_vring.c decodes:
    u8  num_log2        num = 1 << (num_log2 & 15)
    u8  align_log2      align = 1 << (align_log2 & 31)
    u16 ring_off        (little-endian) offset of the ring in the region
    u8  mode            bit 0: device writes (RX ring); bits 1-3: max_segs - 1
    u16 start_idx
    u8  nops
    nops x 4 bytes      operations (see fuzz_vring.c)
    ...                 the region: every remaining byte
"""
import importlib.util
import os
import shutil
import struct
import sys

sys.dont_write_bytecode = True   # keep tests/loader free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def load_gen_corpus():
    path = os.path.join(TOP, "tests", "loader", "gen-corpus.py")
    spec = importlib.util.spec_from_file_location("xa_gen_corpus", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gc = load_gen_corpus()


def le16(v):
    return struct.pack("<H", v & 0xFFFF)


def align_up(v, a):
    return (v + a - 1) // a * a


def rpmsg_hdr(src, dst, payload, flags=0):
    return struct.pack("<IIIHH", src, dst, 0, len(payload), flags) + payload


def ns_msg(name, addr, flags=0):
    return name.encode().ljust(32, b"\0") + struct.pack("<II", addr, flags)


# ---------------------------------------------------------------- vring
DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4

# fuzz_vring.c operation codes
OP_AVAIL, OP_POP, OP_PUSH, OP_PUBLISH, OP_NOTIFY, OP_POKE, OP_KICK, OP_RESUME = range(8)


def op(code, a=0, b=0, c=0):
    return bytes([code, a & 0xFF, b & 0xFF, c & 0xFF])


def vring_seed(num=8, align=16, ring_off=64, device_writes=False, chains=((32,),),
               start_idx=0, avail_idx=None, max_segs=4, ops=b"", bufsize=32,
               descs=None, heads=None, used_idx=None, tail=0):
    """A region holding one ring at ring_off and its buffers after it.
    chains: per available buffer, the lengths of its segments. descs /
    heads override the generated descriptors / avail ring entries (for
    malformed seeds): descs is a list of (addr, len, flags, next)."""
    desc_sz = 16 * num
    used_off = align_up(desc_sz + 6 + 2 * num, align)
    ring_size = used_off + 6 + 8 * num
    buf_base = align_up(ring_off + ring_size, 16)

    gen_descs, gen_heads = [], []
    pos = buf_base
    for chain in chains:
        gen_heads.append(len(gen_descs))
        for k, ln in enumerate(chain):
            flags = DESC_F_WRITE if device_writes else 0
            nxt = 0
            if k + 1 < len(chain):
                flags |= DESC_F_NEXT
                nxt = len(gen_descs) + 1
            gen_descs.append((pos, ln, flags, nxt))
            pos += align_up(ln, 16)
    if descs is None:
        descs = gen_descs
    if heads is None:
        heads = gen_heads
    if avail_idx is None:
        avail_idx = start_idx + len(heads)
    if used_idx is None:
        used_idx = start_idx

    region = bytearray(max(pos, buf_base) + tail)
    r = ring_off
    for i, (addr, ln, flags, nxt) in enumerate(descs[:num]):
        struct.pack_into("<QIHH", region, r + 16 * i, addr, ln, flags, nxt)
    a = r + desc_sz
    struct.pack_into("<HH", region, a, 0, avail_idx & 0xFFFF)
    for k, h in enumerate(heads):
        struct.pack_into("<H", region, a + 4 + 2 * ((start_idx + k) % num), h)
    struct.pack_into("<HH", region, r + used_off, 0, used_idx & 0xFFFF)
    # TX buffers carry RPMsg messages, as the relay expects.
    if not device_writes:
        for addr, ln, _f, _n in gen_descs:
            if ln >= 16:
                msg = rpmsg_hdr(1024, 1025, b"hello"[:ln - 16])
                region[addr:addr + len(msg)] = msg

    hdr = bytes([num.bit_length() - 1, align.bit_length() - 1]) + le16(ring_off)
    hdr += bytes([(1 if device_writes else 0) | ((max_segs - 1) << 1)])
    hdr += le16(start_idx) + bytes([len(ops) // 4]) + ops
    return hdr + bytes(region)


def vring_seeds():
    ring_ops = (op(OP_AVAIL) + op(OP_POP, 1) + op(OP_PUSH, 0x40) + op(OP_PUBLISH) +
                op(OP_NOTIFY, 1) + op(OP_POP) + op(OP_POKE, 0x50, 0, 0x12) +
                op(OP_KICK, 3) + op(OP_POP) + op(OP_RESUME) + op(OP_POP))
    yield "tx-two", vring_seed(chains=((32,), (48,)))
    yield "rx-four", vring_seed(device_writes=True, chains=((64,),) * 4)
    yield "tx-chain3", vring_seed(chains=((16, 16, 32),))
    yield "rx-chain-too-long", vring_seed(device_writes=True, chains=((16,) * 5,), max_segs=4)
    yield "ops", vring_seed(chains=((32,), (32,), (32,)), ops=ring_ops)
    yield "rx-ops", vring_seed(device_writes=True, chains=((32,), (32,)), ops=ring_ops)
    yield "restart", vring_seed(chains=((32,), (32,)), start_idx=5)
    yield "wrap", vring_seed(chains=((32,), (32,), (32,)), start_idx=0xFFFE)
    yield "num1-align4", vring_seed(num=1, align=4, ring_off=16, chains=((24,),))
    yield "ring-too-big", bytes([6, 12]) + le16(0) + bytes([0]) + le16(0) + bytes([0]) + bytes(64)
    B = 304   # first byte after the default ring (num 8, align 16, at 64)
    yield "loop", vring_seed(descs=[(B, 16, DESC_F_NEXT, 1), (B + 16, 16, DESC_F_NEXT, 0)],
                             heads=[0], chains=(), tail=64)
    yield "bad-head", vring_seed(chains=((32,),), heads=[9])
    yield "bad-next", vring_seed(descs=[(B, 16, DESC_F_NEXT, 8)], heads=[0], chains=(), tail=64)
    yield "bad-range", vring_seed(descs=[(0x1000, 16, 0, 0)], heads=[0], chains=())
    yield "range-wraps", vring_seed(descs=[(0xFFFFFFFFFFFFFFF0, 0x20, 0, 0)], heads=[0], chains=())
    yield "zero-len", vring_seed(descs=[(B, 0, 0, 0)], heads=[0], chains=(), tail=64)
    yield "indirect", vring_seed(descs=[(B, 16, DESC_F_INDIRECT, 0)], heads=[0], chains=(), tail=64)
    yield "wrong-dir", vring_seed(descs=[(B, 16, DESC_F_WRITE, 0)], heads=[0], chains=(), tail=64)
    yield "avail-ahead", vring_seed(chains=((32,),), avail_idx=100)
    yield "buf-is-ring", vring_seed(device_writes=True, descs=[(64, 64, DESC_F_WRITE, 0)],
                                    heads=[0], chains=())
    yield "misaligned-off", vring_seed(ring_off=72, chains=((32,),))


# ---------------------------------------------------------------- rsc
def rsc_seeds():
    vd = gc.vdev(7, 0, 1, 0, [(0x1000, 4096, 16, 1), (0x5000, 4096, 16, 2)])
    yield "full", gc.full_table()[0]
    yield "small", gc.small_table()[0]
    yield "vdev-only", gc.rsc_table([vd])[0]
    yield "vdev-config", gc.rsc_table([gc.vdev(7, 0, 1, 0, [(0x1000, 16, 8, 1), (0x2000, 16, 8, 2)],
                                               config=b"\x01\x02\x03\x04\x05\x06\x07\x08")])[0]
    yield "carveout", gc.rsc_table([gc.carveout(0, 0, 0x1000, 0, "mem")])[0]
    yield "devmem-trace", gc.rsc_table([gc.devmem(1, 2, 3, 4, "dev"), gc.trace(5, 6, "log")])[0]
    yield "vendor", gc.rsc_table([gc.vendor(200, b"abcdefgh"), vd])[0]
    yield "two-rpmsg", gc.rsc_table([vd, vd])[0]
    yield "vdev-id3", gc.rsc_table([gc.vdev(3, 0, 0, 0, [(0, 16, 4, 0), (0x100, 16, 4, 0)])])[0]
    yield "vdev-3vrings", gc.rsc_table([gc.vdev(7, 0, 0, 0, [(0, 16, 4, 0)] * 3)])[0]
    yield "vring-num3", gc.rsc_table([gc.vdev(7, 0, 0, 0, [(0, 16, 3, 0), (0x100, 16, 4, 0)])])[0]
    yield "vring-align2", gc.rsc_table([gc.vdev(7, 0, 0, 0, [(0, 2, 4, 0), (0x100, 16, 4, 0)])])[0]
    t, offs = gc.full_table()
    offs = list(offs)
    offs[2] = offs[3]
    yield "overlap", gc.full_table(offsets=offs)[0]
    yield "ver2", gc.full_table(ver=2)[0]
    yield "truncated", gc.full_table()[0][:0x40]
    yield "header-only", struct.pack("<4I", 1, 0, 0, 0)
    yield "num-huge", struct.pack("<4I", 1, 0xFFFFFFFF, 0, 0)
    yield "config-len-huge", gc.rsc_table([struct.pack("<6IBB2x", 3, 7, 0, 0, 0, 0xFFFFFFF0, 0, 0)])[0]
    yield "vendor-len-odd", gc.rsc_table([struct.pack("<II", 300, 10) + b"\0" * 8])[0]
    yield "unknown-type", gc.rsc_table([struct.pack("<II", 77, 0)])[0]


# ---------------------------------------------------------------- elf
ELF_CASES = (
    "valid-elf64.elf", "valid-elf32.elf", "big-endian.elf", "trunc-ehdr32.elf",
    "trunc-phdrs64.elf", "shdrs-outside.elf", "shnum-past-eof.elf",
    "seg-outside.elf", "rsc-outside32.elf", "shstrndx-bad.elf",
    "name-outside.elf", "no-rsc.elf", "dup-rsc.elf", "rsc-nobits.elf",
    "rsc-overlap.elf", "vring-num3.elf", "vring-asym.elf", "no-vdev.elf",
    "vring-num0-elf32.elf",
)


def elf_seeds():
    for name, data, _code, _sub in gc.cases():
        if name in ELF_CASES:
            yield name, bytes(data)
    # Extended numbering: e_shnum 0, the count in section 0's sh_size;
    # e_phnum PN_XNUM, the count in section 0's sh_info.
    b, i = gc.fw32()
    n = len(i["secs"])
    gc.put(b, i, i["L"]["e_shnum"], 0, 2)
    gc.put(b, i, gc.shdr(i, 0, "sh_size"), n)
    yield "ext-shnum-elf32.elf", bytes(b)
    b, i = gc.fw32()
    gc.put(b, i, i["L"]["e_phnum"], 0xFFFF, 2)
    gc.put(b, i, i["shoff"] + 0x1C, 2, 4)   # section 0 sh_info (ELF32)
    yield "pn-xnum-elf32.elf", bytes(b)


# ---------------------------------------------------------------- ctl
def ctl_seeds():
    yield "status", b'{"cmd": "status"}'
    yield "stats", b'{"cmd":"stats"}'
    yield "endpoints", b'{"cmd":"endpoints"}'
    yield "unknown", b'{"cmd":"reboot"}'
    yield "cmd-number", b'{"cmd": 7}'
    yield "array", b'["status"]'
    yield "nested", b'{"x": [1, 2.5, -3e9, true, null, {"y": "\\u00e9\\ud83d\\ude00"}], "cmd": "stats"}'
    yield "dup-key", b'{"cmd":"status","cmd":"endpoints"}'
    yield "trailing", b'{"cmd":"status"} garbage'
    yield "truncated", b'{"cmd":"sta'
    yield "empty", b""
    yield "nul", b'{"cmd":"status\\u0000x"}'
    yield "link-add", b'{"cmd":"link-add","name":"fw2","end-a":"host:2","end-b":"fw2","buf-size":128,"buf-count":16}'
    yield "link-add-same", b'{"cmd":"link-add","name":"host-fw","end-a":"host","end-b":"fw:3"}'
    yield "link-add-bad", b'{"cmd":"link-add","name":"x y","end-a":"h:99999","end-b":"","buf-size":-1}'


# ---------------------------------------------------------------- conf
CONF_GOOD = b"""# example
[backend]
socket = /tmp/xa.sock
max-pages = 4096
max-services = 64
log-level = info

[link host-fw]
end-a = host
end-b = fw:0
buf-size = 512
buf-count = 256

[link host-dsp]   ; a comment
end-a = host:1
end-b = dsp
"""


def conf_seeds():
    yield "good", CONF_GOOD
    yield "minimal", b"[link a]\nend-a = x\nend-b = y\n"
    yield "bom-crlf", b"\xef\xbb\xbf[link a]\r\nend-a = x\r\nend-b = y:65535\r\n"
    yield "no-link", b"[backend]\nmax-pages = 16\n"
    yield "bad-section", b"[frontend]\nx = 1\n"
    yield "link-noname", b"[link]\nend-a = x\n"
    yield "link-dup", b"[link a]\nend-a=x\nend-b=y\n[link a]\nend-a=z\nend-b=w\n"
    yield "same-end", b"[link a]\nend-a=x\nend-b=x:0\n"
    yield "too-big", b"[backend]\nmax-pages=2\n[link a]\nend-a=x\nend-b=y\nbuf-count=32768\nbuf-size=65536\n"
    yield "bad-values", b"[link a]\nend-a=x:99999\nend-b=y:-1\nbuf-count=3\nbuf-size=1\n"
    yield "outside", b"key = value\n"
    yield "syntax", b"[link a]\nthis line is wrong\n"
    yield "long-line", b"[link a]\nend-a = " + b"x" * 300 + b"\n"
    yield "no-bracket", b"[link a\nend-a = x\n"
    yield "after-header", b"[link a] junk\n"
    yield "unknown-key", b"[backend]\nfoo = bar\n"
    yield "twice", b"[backend]\nlog-level = debug\nlog-level = trace\n[link a]\nend-a=x\nend-b=y\n"
    yield "no-newline", b"[link a]\nend-a = x\nend-b = y"
    # a last line that fills inih's 200-byte line buffer (a file/string
    # mismatch fuzz_conf found in conf.c's reader)
    yield "full-last-line", b"[link a]\nend-a = x\nend-b = y\n;" + b"x" * 198


# ---------------------------------------------------------------- rpmsg
def rpmsg_seeds():
    yield "data", rpmsg_hdr(1024, 1025, b"hello world")
    yield "ns-create", rpmsg_hdr(1024, 53, ns_msg("rpmsg-client-sample", 1024))
    yield "ns-destroy", rpmsg_hdr(1024, 53, ns_msg("rpmsg-tty", 1030, 1))
    yield "ns-noterm", rpmsg_hdr(1024, 53, b"A" * 32 + struct.pack("<II", 1024, 0))
    yield "ns-badflags", rpmsg_hdr(1024, 53, ns_msg("x", 1024, 7))
    yield "ns-short", rpmsg_hdr(1024, 53, ns_msg("x", 1024)[:39])
    yield "len-past", struct.pack("<IIIHH", 1, 2, 0, 100, 0) + b"abc"
    yield "short", b"\x00" * 15
    yield "empty-payload", rpmsg_hdr(0xFFFFFFFF, 0xFFFFFFFF, b"")


TARGETS = {
    "vring": vring_seeds,
    "rsc": rsc_seeds,
    "elf": elf_seeds,
    "ctl": ctl_seeds,
    "conf": conf_seeds,
    "rpmsg": rpmsg_seeds,
}


def main():
    if len(sys.argv) > 2:
        sys.exit("usage: make-seeds.py [OUTDIR]")
    outdir = sys.argv[1] if len(sys.argv) == 2 else os.path.join(HERE, "corpus")
    for target, gen in TARGETS.items():
        d = os.path.join(outdir, target)
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
        names = set()
        for name, data in gen():
            assert name not in names, name
            names.add(name)
            with open(os.path.join(d, name), "wb") as f:
                f.write(bytes(data))


if __name__ == "__main__":
    main()
