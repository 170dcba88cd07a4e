/* libxenamp-openamp: the part of libmetal that OpenAMP applications call
 * and that needs state or code of its own (include/openamp/metal/):
 * the process-wide log handler and level, metal_init / metal_finish,
 * metal_get_timestamp, and the out-of-line metal_io_* calls.
 *
 * The handler and level are one pair for the whole process (libmetal
 * keeps them in its global state), so metal_set_log_level() in one file
 * governs metal_log() everywhere. They are atomics: any thread may log
 * while another changes them; a message races with a change only about
 * which of the two settings applies to it. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <metal/io.h>
#include <metal/log.h>
#include <metal/sys.h>
#include <metal/time.h>

static _Atomic(metal_log_handler) g_handler = metal_default_log_handler;
static _Atomic int g_level = METAL_LOG_INFO;
static _Atomic int g_init_count;

void metal_default_log_handler(enum metal_log_level level, const char *format, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
}

void metal_set_log_handler(metal_log_handler handler)
{
	atomic_store(&g_handler, handler);
}

metal_log_handler metal_get_log_handler(void)
{
	return atomic_load(&g_handler);
}

void metal_set_log_level(enum metal_log_level level)
{
	atomic_store(&g_level, (int)level);
}

enum metal_log_level metal_get_log_level(void)
{
	return (enum metal_log_level)atomic_load(&g_level);
}

int metal_init(const struct metal_init_params *params)
{
	static const struct metal_init_params defaults = METAL_INIT_DEFAULTS;

	if (params == NULL)
		params = &defaults;
	metal_set_log_handler(params->log_handler);
	metal_set_log_level(params->log_level);
	atomic_fetch_add(&g_init_count, 1);
	return 0;
}

void metal_finish(void)
{
	int n = atomic_load(&g_init_count);

	/* Unbalanced calls leave the count at 0. */
	while (n > 0 && !atomic_compare_exchange_weak(&g_init_count, &n, n - 1))
		;
}

unsigned long long metal_get_timestamp(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull +
	       (unsigned long long)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* I/O regions (metal/io.h)                                            */

void metal_io_init(struct metal_io_region *io, void *virt,
		   const metal_phys_addr_t *physmap, size_t size,
		   unsigned int page_shift, unsigned int mem_flags,
		   const struct metal_io_ops *ops)
{
	memset(io, 0, sizeof(*io));
	io->virt = virt;
	io->physmap = physmap;
	io->size = size;
	io->page_shift = page_shift;
	/* A shift as wide as an address: one page covers everything. */
	io->page_mask = page_shift >= sizeof(metal_phys_addr_t) * 8 ?
			(metal_phys_addr_t)-1 :
			((metal_phys_addr_t)1 << page_shift) - 1;
	io->mem_flags = mem_flags;
	if (ops != NULL)
		io->ops = *ops;
}

unsigned long metal_io_phys_to_offset(struct metal_io_region *io,
				      metal_phys_addr_t phys)
{
	size_t pages, page_size;

	if (io->ops.phys_to_offset)
		return io->ops.phys_to_offset(io, phys);
	if (io->physmap == NULL || io->size == 0)
		return METAL_BAD_OFFSET;
	if (io->page_mask == (metal_phys_addr_t)-1) {
		/* One page: a plain range check. */
		return phys >= io->physmap[0] && phys - io->physmap[0] < io->size ?
		       (unsigned long)(phys - io->physmap[0]) : METAL_BAD_OFFSET;
	}
	page_size = (size_t)io->page_mask + 1;
	pages = (io->size + page_size - 1) / page_size;
	for (size_t i = 0; i < pages; i++) {
		metal_phys_addr_t base = io->physmap[i];

		if (phys >= base && phys - base < page_size) {
			unsigned long off = (unsigned long)(i * page_size + (phys - base));

			return off < io->size ? off : METAL_BAD_OFFSET;
		}
	}
	return METAL_BAD_OFFSET;
}

/* Bytes of [offset, offset + len) inside the region, or -ERANGE. */
static int io_span(struct metal_io_region *io, unsigned long offset, int len)
{
	if (len < 0 || offset >= io->size || metal_io_virt(io, offset) == NULL)
		return -ERANGE;
	if ((size_t)len > io->size - offset)
		len = (int)(io->size - offset);
	return len;
}

int metal_io_block_read(struct metal_io_region *io, unsigned long offset,
			void *__restrict dst, int len)
{
	if (io->ops.block_read)
		return io->ops.block_read(io, offset, dst, memory_order_seq_cst, len);
	len = io_span(io, offset, len);
	if (len > 0) {
		atomic_thread_fence(memory_order_seq_cst);
		memcpy(dst, metal_io_virt(io, offset), (size_t)len);
	}
	return len;
}

int metal_io_block_write(struct metal_io_region *io, unsigned long offset,
			 const void *__restrict src, int len)
{
	if (io->ops.block_write)
		return io->ops.block_write(io, offset, src, memory_order_seq_cst, len);
	len = io_span(io, offset, len);
	if (len > 0) {
		memcpy(metal_io_virt(io, offset), src, (size_t)len);
		atomic_thread_fence(memory_order_seq_cst);
	}
	return len;
}

int metal_io_block_set(struct metal_io_region *io, unsigned long offset,
		       unsigned char value, int len)
{
	if (io->ops.block_set) {
		io->ops.block_set(io, offset, value, memory_order_seq_cst, len);
		return len;
	}
	len = io_span(io, offset, len);
	if (len > 0) {
		memset(metal_io_virt(io, offset), value, (size_t)len);
		atomic_thread_fence(memory_order_seq_cst);
	}
	return len;
}
