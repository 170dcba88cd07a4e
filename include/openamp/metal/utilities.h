/* libmetal compatibility: <metal/utilities.h>. align must be a power of
 * two; bit indices are unsigned and within the bitmap. */
#ifndef XENAMP_COMPAT_METAL_UTILITIES_H
#define XENAMP_COMPAT_METAL_UTILITIES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define metal_unused(x)  do { (x) = (x); } while (0)
#define metal_dim(x)     (sizeof(x) / sizeof((x)[0]))
#define metal_min(x, y)  ((x) < (y) ? (x) : (y))
#define metal_max(x, y)  ((x) > (y) ? (x) : (y))
#define metal_sign(x)    ((x) < 0 ? -1 : ((x) > 0 ? 1 : 0))

#define metal_align_down(size, align)  ((size) & ~((align) - 1))
#define metal_align_up(size, align)    metal_align_down((size) + (align) - 1, (align))
#define metal_div_round_down(num, den) ((num) / (den))
#define metal_div_round_up(num, den)   metal_div_round_down((num) + (den) - 1, (den))
#define metal_ptr_align_down(ptr, align) \
	((void *)metal_align_down((uintptr_t)(ptr), (uintptr_t)(align)))
#define metal_ptr_align_up(ptr, align) \
	((void *)metal_align_up((uintptr_t)(ptr), (uintptr_t)(align)))

#define metal_offset_of(structure, member) offsetof(structure, member)
#define metal_container_of(ptr, structure, member) \
	((structure *)(void *)((char *)(ptr) - offsetof(structure, member)))

#define METAL_BITS_PER_ULONG (CHAR_BIT * sizeof(unsigned long))
#define metal_bit(bit)        (1UL << (bit))
#define metal_bitmap_longs(x) metal_div_round_up((x), METAL_BITS_PER_ULONG)

static inline void metal_bitmap_set_bit(unsigned long *bitmap, int bit)
{
	bitmap[bit / METAL_BITS_PER_ULONG] |= metal_bit(bit % METAL_BITS_PER_ULONG);
}

static inline void metal_bitmap_clear_bit(unsigned long *bitmap, int bit)
{
	bitmap[bit / METAL_BITS_PER_ULONG] &= ~metal_bit(bit % METAL_BITS_PER_ULONG);
}

static inline int metal_bitmap_is_bit_set(unsigned long *bitmap, int bit)
{
	return (bitmap[bit / METAL_BITS_PER_ULONG] &
		metal_bit(bit % METAL_BITS_PER_ULONG)) != 0;
}

static inline int metal_bitmap_is_bit_clear(unsigned long *bitmap, int bit)
{
	return !metal_bitmap_is_bit_set(bitmap, bit);
}

/* First set bit in [start, max), or max. */
static inline unsigned int
metal_bitmap_next_set_bit(unsigned long *bitmap, unsigned int start,
			  unsigned int max)
{
	while (start < max && !metal_bitmap_is_bit_set(bitmap, (int)start))
		start++;
	return start;
}

/* First clear bit in [start, max), or max. */
static inline unsigned int
metal_bitmap_next_clear_bit(unsigned long *bitmap, unsigned int start,
			    unsigned int max)
{
	while (start < max && metal_bitmap_is_bit_set(bitmap, (int)start))
		start++;
	return start;
}

#define metal_bitmap_for_each_set_bit(bitmap, bit, max) \
	for ((bit) = metal_bitmap_next_set_bit((bitmap), 0, (max)); \
	     (bit) < (max); \
	     (bit) = metal_bitmap_next_set_bit((bitmap), (bit) + 1, (max)))

#define metal_bitmap_for_each_clear_bit(bitmap, bit, max) \
	for ((bit) = metal_bitmap_next_clear_bit((bitmap), 0, (max)); \
	     (bit) < (max); \
	     (bit) = metal_bitmap_next_clear_bit((bitmap), (bit) + 1, (max)))

/* Floor of log2(in); 0 for 0. */
static inline unsigned long metal_log2(unsigned long in)
{
	unsigned long r = 0;

	while (in >>= 1)
		r++;
	return r;
}

#ifdef __cplusplus
}
#endif

#endif
