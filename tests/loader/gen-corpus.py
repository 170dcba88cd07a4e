#!/usr/bin/env python3
"""Generate the xenamp-load test corpus: firmware ELF files, valid and
malformed, plus a manifest of what xenamp-load must say about each.

Usage: gen-corpus.py OUTDIR

Writes OUTDIR/<case> for every case and OUTDIR/manifest.tsv with lines
    <case> TAB <exit code> TAB <substring of the one-line error>
(the substring is empty for valid files). Expected offsets are computed
from the layout this script produced, so they are file offsets of the
field at fault, as xenamp-load reports them. Python 3 standard library
only; no toolchain needed.
"""
import os
import struct
import sys

EM_X86_64 = 62
EM_ARM = 40
PT_LOAD = 1
PT_GNU_STACK = 0x6474E551
SHT_PROGBITS = 1
SHT_STRTAB = 3
SHT_NOBITS = 8
SHF_ALLOC = 2
SHF_EXECINSTR = 4
SHF_WRITE = 1

# Field offsets (the same table as src/loader/fw_image.c).
LAYOUT = {
    32: dict(ehsize=52, phentsize=32, shentsize=40,
             e_phoff=0x1C, e_shoff=0x20, e_phentsize=0x2A, e_phnum=0x2C,
             e_shentsize=0x2E, e_shnum=0x30, e_shstrndx=0x32,
             p_offset=0x04, p_filesz=0x10, p_memsz=0x14,
             sh_name=0x00, sh_type=0x04, sh_offset=0x10, sh_size=0x14),
    64: dict(ehsize=64, phentsize=56, shentsize=64,
             e_phoff=0x20, e_shoff=0x28, e_phentsize=0x36, e_phnum=0x38,
             e_shentsize=0x3A, e_shnum=0x3C, e_shstrndx=0x3E,
             p_offset=0x08, p_filesz=0x20, p_memsz=0x28,
             sh_name=0x00, sh_type=0x04, sh_offset=0x18, sh_size=0x20),
}

# ---------------------------------------------------------------- resource table
RSC_CARVEOUT, RSC_DEVMEM, RSC_TRACE, RSC_VDEV = 0, 1, 2, 3
VDEV_FIXED = 28
VRING_SIZE = 20


def name32(s):
    return s.encode().ljust(32, b"\0")


def carveout(da, pa, length, flags, name, kind=RSC_CARVEOUT):
    return struct.pack("<6I", kind, da, pa, length, flags, 0) + name32(name)


def devmem(da, pa, length, flags, name):
    return carveout(da, pa, length, flags, name, RSC_DEVMEM)


def trace(da, length, name):
    return struct.pack("<4I", RSC_TRACE, da, length, 0) + name32(name)


def vdev(vid, notifyid, dfeatures, gfeatures, vrings, config=b"", status=0):
    b = struct.pack("<6IBB2x", RSC_VDEV, vid, notifyid, dfeatures, gfeatures,
                    len(config), status, len(vrings))
    for da, align, num, nid in vrings:
        b += struct.pack("<5I", da, align, num, nid, 0)
    return b + config


def vendor(vtype, data):
    return struct.pack("<II", vtype, 8 + len(data)) + data


def rsc_table(entries, ver=1, offsets=None):
    """Header, offset array, then the entries, each 4-byte aligned.
    Returns (bytes, [entry offsets])."""
    n = len(entries)
    off = 16 + 4 * n
    offs, body = [], b""
    for e in entries:
        offs.append(off + len(body))
        body += e + b"\0" * (-len(e) % 4)
    if offsets is not None:
        offs = offsets
    return struct.pack("<4I", ver, n, 0, 0) + struct.pack("<%dI" % n, *offs) + body, offs


# ---------------------------------------------------------------- ELF writer
class Section:
    def __init__(self, name, stype, data=b"", addr=0, flags=SHF_ALLOC, size=None):
        self.name, self.type, self.data = name, stype, data
        self.addr, self.flags = addr, flags
        self.size = len(data) if size is None else size
        self.offset = 0


def align(v, a):
    return (v + a - 1) // a * a


def build_elf(cls, sections, big=False, machine=EM_X86_64, etype=2,
              entry=0x100000):
    """ELF with: header, two program headers (LOAD of .text, GNU_STACK),
    the sections' data, .shstrtab, then the section header table.
    Returns (bytearray, info)."""
    L = LAYOUT[cls]
    e = ">" if big else "<"
    a = "I" if cls == 32 else "Q"
    secs = [Section("", 0, flags=0)] + list(sections) + [Section(".shstrtab", SHT_STRTAB, flags=0)]
    names = b"\0"
    name_off = []
    for s in secs:
        if s.name:
            name_off.append(len(names))
            names += s.name.encode() + b"\0"
        else:
            name_off.append(0)
    secs[-1].data = names
    secs[-1].size = len(names)

    phoff = L["ehsize"]
    phnum = 2
    pos = phoff + phnum * L["phentsize"]
    out = bytearray(pos)
    for s in secs[1:]:
        if s.type == SHT_NOBITS:
            s.offset = pos
            continue
        pos = align(pos, 8)
        s.offset = pos
        out += b"\0" * (pos - len(out)) + s.data
        pos = len(out)
    shoff = align(pos, 8)
    out += b"\0" * (shoff - len(out))

    for i, s in enumerate(secs):
        if cls == 64:
            out += struct.pack(e + "IIQQQQIIQQ", name_off[i], s.type, s.flags,
                               s.addr, s.offset if i else 0, s.size,
                               0, 0, 8 if i else 0, 0)
        else:
            out += struct.pack(e + "10I", name_off[i], s.type, s.flags,
                               s.addr, s.offset if i else 0, s.size,
                               0, 0, 8 if i else 0, 0)

    text = next(s for s in secs if s.name == ".text")
    if cls == 64:
        ph = struct.pack(e + "IIQQQQQQ", PT_LOAD, 5, text.offset, text.addr,
                         text.addr, text.size, text.size + 0x100, 0x1000)
        ph += struct.pack(e + "IIQQQQQQ", PT_GNU_STACK, 6, 0, 0, 0, 0, 0, 16)
    else:
        ph = struct.pack(e + "8I", PT_LOAD, text.offset, text.addr, text.addr,
                         text.size, text.size + 0x100, 5, 0x1000)
        ph += struct.pack(e + "8I", PT_GNU_STACK, 0, 0, 0, 0, 0, 6, 16)
    out[phoff:phoff + len(ph)] = ph

    ident = b"\x7fELF" + bytes([1 if cls == 32 else 2, 2 if big else 1, 1, 0]) + b"\0" * 8
    hdr = ident + struct.pack(e + "HHI" + a + a + a + "IHHHHHH", etype, machine, 1,
                              entry, phoff, shoff, 0, L["ehsize"],
                              L["phentsize"], phnum, L["shentsize"],
                              len(secs), len(secs) - 1)
    out[0:len(hdr)] = hdr
    info = dict(cls=cls, L=L, phoff=phoff, shoff=shoff, secs=secs,
                index={s.name: i for i, s in enumerate(secs)})
    return out, info


def shdr(info, idx, field):
    """File offset of a field of section header idx."""
    return info["shoff"] + idx * info["L"]["shentsize"] + info["L"][field]


def phdr(info, idx, field):
    return info["phoff"] + idx * info["L"]["phentsize"] + info["L"][field]


def put(buf, info, off, value, width=None):
    """Store a little-endian integer of the class's address width (or width
    bytes) at off."""
    if width is None:
        width = 8 if info["cls"] == 64 else 4
    buf[off:off + width] = value.to_bytes(width, "little")


def rsc_file_off(info):
    return info["secs"][info["index"][".resource_table"]].offset


# ---------------------------------------------------------------- firmware
TEXT = bytes(range(256)) * 2


def full_table(vdev_id=7, nums=(16, 16), ver=1, offsets=None):
    entries = [
        carveout(0x100000, 0x100000, 0x2100001, 0, "fw-mem"),
        devmem(0x9000000, 0x9000000, 0x1000, 0, "uart0"),
        trace(0x200000, 0x1000, "trace0"),
        vdev(vdev_id, 0, 1, 0, [(0x10000, 4096, nums[0], 1), (0x14000, 4096, nums[1], 2)],
             config=b"\xaa\xbb\xcc\xdd"),
        vendor(130, bytes(range(1, 9))),
    ]
    return rsc_table(entries, ver=ver, offsets=offsets)


def small_table(nums=(32, 32)):
    return rsc_table([
        carveout(0x20000000, 0x20000000, 0x800000, 0, "ram"),
        vdev(7, 0, 0, 0, [(0x1000, 16, nums[0], 1), (0x2000, 16, nums[1], 2)]),
    ])


def fw64(table=None, extra=(), rsc=True, rsc_type=SHT_PROGBITS, big=False):
    t, offs = table if table is not None else full_table()
    secs = [Section(".text", SHT_PROGBITS, TEXT, addr=0x100000,
                    flags=SHF_ALLOC | SHF_EXECINSTR)]
    if rsc:
        secs.append(Section(".resource_table", rsc_type, t, addr=0x108000,
                            flags=SHF_ALLOC | SHF_WRITE))
    secs += list(extra)
    secs.append(Section(".data", SHT_PROGBITS, b"data" * 8, addr=0x109000,
                        flags=SHF_ALLOC | SHF_WRITE))
    buf, info = build_elf(64, secs, big=big)
    info["rsc_offs"] = offs
    return buf, info


def fw32(table=None):
    t, offs = table if table is not None else small_table()
    secs = [Section(".text", SHT_PROGBITS, TEXT[:128], addr=0x20000000,
                    flags=SHF_ALLOC | SHF_EXECINSTR),
            Section(".resource_table", SHT_PROGBITS, t, addr=0x20010000,
                    flags=SHF_ALLOC | SHF_WRITE)]
    buf, info = build_elf(32, secs, machine=EM_ARM, entry=0x20000001)
    info["rsc_offs"] = offs
    return buf, info


# ---------------------------------------------------------------- Xen ELF notes
PT_NOTE = 4
SHT_NOTE = 7


def xen_note(ntype, desc):
    """One note named "Xen", 4-byte padded (Xen's public elfnote.h)."""
    if isinstance(desc, str):
        desc = desc.encode() + b"\0"
    elif isinstance(desc, int):
        desc = struct.pack("<Q", desc)
    b = struct.pack("<3I", 4, len(desc), ntype) + b"Xen\0" + desc
    return b + b"\0" * (-len(b) % 4)


# The notes of the in-tree firmware (src/firmware/runtime/start.S).
PV_NOTES = (xen_note(6, "xenamp-fw") + xen_note(7, "0.1") + xen_note(5, "xen-3.0") +
            xen_note(8, "generic") + xen_note(3, 0x100000) + xen_note(4, 0x100000) +
            xen_note(1, 0x100000) + xen_note(2, 0x101000))
# A Linux vmlinux: PV entry and a PVH entry (PHYS32_ENTRY, 4 bytes).
LINUX_NOTES = (xen_note(6, "linux") + xen_note(5, "xen-3.0") + xen_note(1, 0x100000) +
               xen_note(18, struct.pack("<I", 0x1000000)))
PVH_NOTES = xen_note(18, struct.pack("<I", 0x100000))


def with_notes(notes, filesz=None, table=None):
    """valid-elf64.elf with a .note.Xen section and its second program
    header (GNU_STACK) turned into the PT_NOTE segment over it; filesz
    overrides the segment's size (a note that does not fit)."""
    b, i = fw64(table=table, extra=[Section(".note.Xen", SHT_NOTE, notes, flags=SHF_ALLOC)])
    sec = i["secs"][i["index"][".note.Xen"]]
    put(b, i, phdr(i, 1, "p_offset") - 8, PT_NOTE, 4)
    put(b, i, phdr(i, 1, "p_offset") - 4, 4, 4)                  # p_flags R
    put(b, i, phdr(i, 1, "p_offset"), sec.offset)
    put(b, i, phdr(i, 1, "p_filesz"), len(notes) if filesz is None else filesz)
    put(b, i, phdr(i, 1, "p_memsz"), 0)
    put(b, i, phdr(i, 1, "p_offset") + 0x28, 4)                  # p_align
    return b, i


def cases():
    """Yield (name, bytes, exit code, expected substring)."""
    # Bootable Xen images (--xl, --libvirt) and one whose note is cut.
    yield "xen-pv.elf", with_notes(PV_NOTES)[0], 0, ""
    yield "xen-linux.elf", with_notes(LINUX_NOTES)[0], 0, ""
    yield "xen-pvh.elf", with_notes(PVH_NOTES)[0], 0, ""
    yield "xen-cut-note.elf", with_notes(PV_NOTES, len(PV_NOTES) - 2)[0], 0, ""
    # the link of src/tools/xenamp-echo-fw (256 buffers of 512 bytes)
    yield "xen-pv-256.elf", with_notes(PV_NOTES, table=full_table(nums=(256, 256)))[0], 0, ""
    b, i = fw64()
    yield "valid-elf64.elf", b, 0, ""
    b, i = fw32()
    yield "valid-elf32.elf", b, 0, ""

    # --- not an ELF / unsupported kind (3, 4)
    yield "not-elf.txt", b"this is not an ELF file\n", 3, "offset 0x0: not an ELF file"
    yield "empty.bin", b"", 3, "offset 0x0: not an ELF file (empty)"
    yield "bad-magic.elf", b"\x7fELG" + b"\0" * 60, 3, "offset 0x3: not an ELF file"
    b, i = fw64(big=True)
    yield "big-endian.elf", b, 4, "offset 0x5: big-endian ELF"
    b, i = fw64()
    b[4] = 3
    yield "class3.elf", b, 4, "offset 0x4: ELF class 3"
    b, i = fw64()
    b[6] = 2
    yield "version2.elf", b, 4, "offset 0x6: ELF version 2"

    # --- truncated / outside the file (5)
    b, i = fw64()
    yield "trunc-ehdr64.elf", b[:40], 5, "offset 0x28: ELF header truncated"
    b, i = fw32()
    yield "trunc-ehdr32.elf", b[:30], 5, "offset 0x1e: ELF header truncated"
    b, i = fw64()
    yield "trunc-ident.elf", b[:10], 5, "offset 0xa: ELF header truncated"
    b, i = fw64()
    put(b, i, 0x20, len(b) - 40)
    yield "trunc-phdrs64.elf", b, 5, "offset 0x20: program header table"
    b, i = fw32()
    put(b, i, 0x1C, len(b) - 20)
    yield "trunc-phdrs32.elf", b, 5, "offset 0x1c: program header table"
    b, i = fw64()
    put(b, i, 0x36, 40, 2)
    yield "phentsize-bad.elf", b, 5, "offset 0x36: e_phentsize 40"
    b, i = fw64()
    put(b, i, 0x28, len(b) + 0x1000)
    yield "shdrs-outside.elf", b, 5, "offset 0x28: section header table at 0x%x is outside the file" % (len(b) + 0x1000)
    b, i = fw64()
    put(b, i, 0x3C, 200, 2)
    yield "shnum-past-eof.elf", b, 5, "offset 0x28: section header table (200 entries"
    b, i = fw64()
    put(b, i, 0x28, 0xFFFFFFFFFFFFFFF0)
    yield "shoff-wraps.elf", b, 5, "offset 0x28: section header table at 0xfffffffffffffff0"
    b, i = fw64()
    put(b, i, phdr(i, 0, "p_offset"), len(b) - 16)
    yield "seg-outside.elf", b, 5, "offset 0x%x: segment 0 (LOAD)" % phdr(i, 0, "p_offset")
    b, i = fw64()
    put(b, i, phdr(i, 0, "p_memsz"), 4)
    yield "seg-filesz-gt-memsz.elf", b, 5, "offset 0x%x: segment 0 (LOAD): p_filesz" % phdr(i, 0, "p_filesz")
    b, i = fw64()
    ri = i["index"][".resource_table"]
    put(b, i, shdr(i, ri, "sh_offset"), len(b) + 0x100)
    yield "rsc-outside64.elf", b, 5, "offset 0x%x: section %d (.resource_table): contents" % (shdr(i, ri, "sh_offset"), ri)
    b, i = fw32()
    ri = i["index"][".resource_table"]
    put(b, i, shdr(i, ri, "sh_offset"), len(b) - 8)
    yield "rsc-outside32.elf", b, 5, "offset 0x%x: section %d (.resource_table): contents" % (shdr(i, ri, "sh_offset"), ri)
    b, i = fw64()
    ri = i["index"][".resource_table"]
    put(b, i, shdr(i, ri, "sh_size"), 0xFFFFFFFFFFFFFF00)
    yield "rsc-size-wraps.elf", b, 5, "offset 0x%x: section %d (.resource_table): contents" % (shdr(i, ri, "sh_offset"), ri)
    b, i = fw64()
    put(b, i, 0x3E, 99, 2)
    yield "shstrndx-bad.elf", b, 5, "offset 0x3e: e_shstrndx 99"
    b, i = fw64()
    put(b, i, shdr(i, 1, "sh_name"), 0x7000, 4)
    yield "name-outside.elf", b, 5, "offset 0x%x: section 1: name offset 0x7000" % shdr(i, 1, "sh_name")

    # --- .resource_table missing / duplicate / empty (6)
    b, i = fw64(rsc=False)
    yield "no-rsc.elf", b, 6, "offset 0x%x: no .resource_table section" % i["shoff"]
    t, _ = full_table()
    b, i = fw64(extra=[Section(".resource_table", SHT_PROGBITS, t, addr=0x10a000)])
    dup = [k for k, s in enumerate(i["secs"]) if s.name == ".resource_table"]
    yield "dup-rsc.elf", b, 6, "offset 0x%x: second .resource_table section (section %d; the first is section %d)" % (
        shdr(i, dup[1], "sh_name"), dup[1], dup[0])
    b, i = fw64(rsc_type=SHT_NOBITS)
    ri = i["index"][".resource_table"]
    yield "rsc-nobits.elf", b, 6, "offset 0x%x: section %d (.resource_table) is SHT_NOBITS" % (shdr(i, ri, "sh_type"), ri)
    # Found by tests/fuzz (fuzz_elf): an empty section with its sh_offset
    # far outside the file was reported at that offset, as code 5.
    b, i = fw64()
    ri = i["index"][".resource_table"]
    put(b, i, shdr(i, ri, "sh_size"), 0)
    put(b, i, shdr(i, ri, "sh_offset"), 0xB0000000000000)
    yield "rsc-empty.elf", b, 6, "offset 0x%x: section %d (.resource_table) is empty" % (shdr(i, ri, "sh_size"), ri)

    # --- resource table faults (7)
    b, i = fw64()
    ri = i["index"][".resource_table"]
    put(b, i, shdr(i, ri, "sh_size"), 0x40)
    r = rsc_file_off(i)
    yield "rsc-truncated.elf", b, 7, "offset 0x%x: resource table: entry 0 (carveout) at offset 0x%x: entry of 56 bytes runs past the end of the table" % (
        r + i["rsc_offs"][0], i["rsc_offs"][0])
    b, i = fw64()
    ri = i["index"][".resource_table"]
    put(b, i, shdr(i, ri, "sh_size"), 12)
    yield "rsc-shorter-than-header.elf", b, 7, "offset 0x%x: resource table: table header: table length 12" % rsc_file_off(i)
    offs = list(full_table()[1])
    offs[1] = 0x1000
    b, i = fw64(table=full_table(offsets=offs))
    yield "rsc-offset-outside.elf", b, 7, "offset 0x%x: resource table: entry 1: offset 0x1000 is outside the table" % (
        rsc_file_off(i) + 16 + 4)
    offs = list(full_table()[1])
    offs[2] = offs[3]
    b, i = fw64(table=full_table(offsets=offs))
    yield "rsc-overlap.elf", b, 7, "offset 0x%x: resource table: entry 3 (vdev) at offset 0x%x: overlaps entry 2 (vdev)" % (
        rsc_file_off(i) + offs[3], offs[3])
    b, i = fw64(table=full_table(ver=2))
    yield "rsc-ver2.elf", b, 7, "offset 0x%x: resource table: table header: ver 2 is not 1" % rsc_file_off(i)
    b, i = fw64(table=rsc_table([vendor(200, b"\0" * 8)] * 33))
    yield "rsc-too-many.elf", b, 7, "offset 0x%x: resource table: table header: num 33" % (rsc_file_off(i) + 4)

    # --- RPMsg vdev faults (8)
    b, i = fw64(table=full_table(vdev_id=3))
    v = i["rsc_offs"][3]
    yield "vdev-id3.elf", b, 8, "offset 0x%x: resource table: vdev entry 3 is virtio id 3, not RPMsg" % (rsc_file_off(i) + v + 4)
    b, i = fw64(table=full_table(nums=(16, 3)))
    v = i["rsc_offs"][3]
    yield "vring-num3.elf", b, 8, "offset 0x%x: resource table: entry 3 (vdev) at offset 0x%x: vring 1 num 3 is not a power of two" % (
        rsc_file_off(i) + v + VDEV_FIXED + VRING_SIZE + 8, v)
    b, i = fw64(table=full_table(nums=(16, 32)))
    v = i["rsc_offs"][3]
    yield "vring-asym.elf", b, 8, "offset 0x%x: resource table: entry 3 (vdev): vring 0 num 16 and vring 1 num 32 differ" % (
        rsc_file_off(i) + v + VDEV_FIXED + VRING_SIZE + 8)
    b, i = fw64(table=rsc_table([carveout(0, 0, 0x1000, 0, "m")]))
    yield "no-vdev.elf", b, 8, "offset 0x%x: resource table: no vdev entry" % rsc_file_off(i)
    b, i = fw32(table=small_table(nums=(32, 0)))
    yield "vring-num0-elf32.elf", b, 8, "vring 1 num 0 is not a power of two"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-corpus.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "manifest.tsv"), "w") as man:
        for name, data, code, sub in cases():
            with open(os.path.join(outdir, name), "wb") as f:
                f.write(bytes(data))
            assert "\t" not in sub and "\n" not in sub
            man.write("%s\t%d\t%s\n" % (name, code, sub))


if __name__ == "__main__":
    main()
