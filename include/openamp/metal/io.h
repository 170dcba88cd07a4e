/* libmetal compatibility: <metal/io.h>, the region access an application
 * may do on memory it describes itself (metal_io_init on its own buffer,
 * a table of physical addresses per page or none). xenamp's shared region
 * is libxenamp's and is never handed out as a metal_io_region.
 *
 * Offsets are checked against the size: metal_io_virt() gives NULL,
 * metal_io_phys() METAL_BAD_PHYS, the block calls -ERANGE (and shorten a
 * block that runs past the end, as libmetal does). The read / write
 * helpers are atomic loads and stores of the given width (1, 2, 4, 8
 * bytes) unless the region has its own ops; an access outside the region
 * reads 0 and writes nothing. */
#ifndef XENAMP_COMPAT_METAL_IO_H
#define XENAMP_COMPAT_METAL_IO_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <metal/atomic.h>
#include <metal/compiler.h>
#include <metal/sys.h>

#ifdef __cplusplus
extern "C" {
#endif

#define METAL_UNCACHED   0x0u
#define METAL_CACHE_WB   0x1u
#define METAL_CACHE_WT   0x2u
#define METAL_IO_MAPPED  0x100u

struct metal_io_region;

/* Optional accessors of a region (NULL members: plain memory). */
struct metal_io_ops {
	uint64_t (*read)(struct metal_io_region *io, unsigned long offset,
			 memory_order order, int width);
	void (*write)(struct metal_io_region *io, unsigned long offset,
		      uint64_t value, memory_order order, int width);
	int (*block_read)(struct metal_io_region *io, unsigned long offset,
			  void *__restrict dst, memory_order order, int len);
	int (*block_write)(struct metal_io_region *io, unsigned long offset,
			   const void *__restrict src, memory_order order, int len);
	void (*block_set)(struct metal_io_region *io, unsigned long offset,
			  unsigned char value, memory_order order, int len);
	void (*close)(struct metal_io_region *io);
	metal_phys_addr_t (*offset_to_phys)(struct metal_io_region *io,
					    unsigned long offset);
	unsigned long (*phys_to_offset)(struct metal_io_region *io,
					metal_phys_addr_t phys);
};

struct metal_io_region {
	void *virt;                        /* base address */
	const metal_phys_addr_t *physmap;  /* physical base of each page */
	size_t size;
	unsigned long page_shift;          /* page size = 1 << page_shift */
	metal_phys_addr_t page_mask;
	unsigned int mem_flags;
	struct metal_io_ops ops;
};

/* Describe size bytes at virt; physmap[i] is the physical address of page
 * i (one entry covers everything when page_shift >= the bits of an
 * offset); ops may be NULL. */
void metal_io_init(struct metal_io_region *io, void *virt,
		   const metal_phys_addr_t *physmap, size_t size,
		   unsigned int page_shift, unsigned int mem_flags,
		   const struct metal_io_ops *ops);

static inline void metal_io_finish(struct metal_io_region *io)
{
	if (io->ops.close)
		io->ops.close(io);
}

static inline size_t metal_io_region_size(struct metal_io_region *io)
{
	return io->size;
}

static inline void *metal_io_virt(struct metal_io_region *io, unsigned long offset)
{
	return io->virt != METAL_BAD_VA && offset < io->size ?
	       (void *)((uintptr_t)io->virt + offset) : NULL;
}

static inline unsigned long metal_io_virt_to_offset(struct metal_io_region *io,
						    void *virt)
{
	uintptr_t v = (uintptr_t)virt, b = (uintptr_t)io->virt;

	return v >= b && v - b < io->size ? (unsigned long)(v - b) : METAL_BAD_OFFSET;
}

static inline metal_phys_addr_t metal_io_phys(struct metal_io_region *io,
					      unsigned long offset)
{
	unsigned long page;

	if (io->ops.offset_to_phys)
		return io->ops.offset_to_phys(io, offset);
	if (io->physmap == NULL || offset >= io->size)
		return METAL_BAD_PHYS;
	page = io->page_shift >= sizeof(offset) * CHAR_BIT ? 0 :
	       offset >> io->page_shift;
	return io->physmap[page] + (offset & io->page_mask);
}

/* The offset of physical address phys, or METAL_BAD_OFFSET. */
unsigned long metal_io_phys_to_offset(struct metal_io_region *io,
				      metal_phys_addr_t phys);

static inline void *metal_io_phys_to_virt(struct metal_io_region *io,
					  metal_phys_addr_t phys)
{
	return metal_io_virt(io, metal_io_phys_to_offset(io, phys));
}

static inline metal_phys_addr_t metal_io_virt_to_phys(struct metal_io_region *io,
						      void *virt)
{
	return metal_io_phys(io, metal_io_virt_to_offset(io, virt));
}

static inline uint64_t metal_io_read(struct metal_io_region *io,
				     unsigned long offset, memory_order order,
				     int width)
{
	void *p = metal_io_virt(io, offset);

	if (io->ops.read)
		return io->ops.read(io, offset, order, width);
	if (p == NULL || offset + (unsigned long)width > io->size)
		return 0;
	switch (width) {
	case 1: return atomic_load_explicit((_Atomic uint8_t *)p, order);
	case 2: return atomic_load_explicit((_Atomic uint16_t *)p, order);
	case 4: return atomic_load_explicit((_Atomic uint32_t *)p, order);
	case 8: return atomic_load_explicit((_Atomic uint64_t *)p, order);
	default: return 0;
	}
}

static inline void metal_io_write(struct metal_io_region *io,
				  unsigned long offset, uint64_t value,
				  memory_order order, int width)
{
	void *p = metal_io_virt(io, offset);

	if (io->ops.write) {
		io->ops.write(io, offset, value, order, width);
		return;
	}
	if (p == NULL || offset + (unsigned long)width > io->size)
		return;
	switch (width) {
	case 1: atomic_store_explicit((_Atomic uint8_t *)p, (uint8_t)value, order); break;
	case 2: atomic_store_explicit((_Atomic uint16_t *)p, (uint16_t)value, order); break;
	case 4: atomic_store_explicit((_Atomic uint32_t *)p, (uint32_t)value, order); break;
	case 8: atomic_store_explicit((_Atomic uint64_t *)p, value, order); break;
	default: break;
	}
}

#define metal_io_read8_explicit(io, ofs, mo)  ((uint8_t)metal_io_read((io), (ofs), (mo), 1))
#define metal_io_read16_explicit(io, ofs, mo) ((uint16_t)metal_io_read((io), (ofs), (mo), 2))
#define metal_io_read32_explicit(io, ofs, mo) ((uint32_t)metal_io_read((io), (ofs), (mo), 4))
#define metal_io_read64_explicit(io, ofs, mo) ((uint64_t)metal_io_read((io), (ofs), (mo), 8))
#define metal_io_read8(io, ofs)  metal_io_read8_explicit((io), (ofs), memory_order_seq_cst)
#define metal_io_read16(io, ofs) metal_io_read16_explicit((io), (ofs), memory_order_seq_cst)
#define metal_io_read32(io, ofs) metal_io_read32_explicit((io), (ofs), memory_order_seq_cst)
#define metal_io_read64(io, ofs) metal_io_read64_explicit((io), (ofs), memory_order_seq_cst)
#define metal_io_write8_explicit(io, ofs, v, mo)  metal_io_write((io), (ofs), (v), (mo), 1)
#define metal_io_write16_explicit(io, ofs, v, mo) metal_io_write((io), (ofs), (v), (mo), 2)
#define metal_io_write32_explicit(io, ofs, v, mo) metal_io_write((io), (ofs), (v), (mo), 4)
#define metal_io_write64_explicit(io, ofs, v, mo) metal_io_write((io), (ofs), (v), (mo), 8)
#define metal_io_write8(io, ofs, v)  metal_io_write8_explicit((io), (ofs), (v), memory_order_seq_cst)
#define metal_io_write16(io, ofs, v) metal_io_write16_explicit((io), (ofs), (v), memory_order_seq_cst)
#define metal_io_write32(io, ofs, v) metal_io_write32_explicit((io), (ofs), (v), memory_order_seq_cst)
#define metal_io_write64(io, ofs, v) metal_io_write64_explicit((io), (ofs), (v), memory_order_seq_cst)

/* Copy len bytes between the region at offset and memory; the number of
 * bytes copied (cut at the end of the region) or -ERANGE. */
int metal_io_block_read(struct metal_io_region *io, unsigned long offset,
			void *__restrict dst, int len);
int metal_io_block_write(struct metal_io_region *io, unsigned long offset,
			 const void *__restrict src, int len);
int metal_io_block_set(struct metal_io_region *io, unsigned long offset,
		       unsigned char value, int len);

#ifdef __cplusplus
}
#endif

#endif
