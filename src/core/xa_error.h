/* Error codes of the protocol core.
 *
 * The core never crashes on hostile input: every check that fails turns into
 * one of these codes, which the caller (backend, frontend, loader) reports
 * together with the partition or file it came from. Values are negative so
 * they can travel in the same int as a count. */
#ifndef XENAMP_CORE_XA_ERROR_H
#define XENAMP_CORE_XA_ERROR_H

enum xa_err {
	XA_OK = 0,
	XA_EMPTY = 1,               /* not an error: nothing available right now */

	/* ring layout and parameters */
	XA_ERR_RING_PARAM = -1,     /* num not a power of two / zero / too large, bad align */
	XA_ERR_RING_PLACE = -2,     /* ring does not fit in the region or is misaligned */

	/* device side: values read from a hostile ring */
	XA_ERR_AVAIL_IDX = -10,     /* avail->idx ran ahead of us by more than num */
	XA_ERR_DESC_ID = -11,       /* head or next descriptor id >= num */
	XA_ERR_DESC_RANGE = -12,    /* addr/len outside the region (or wraps) */
	XA_ERR_DESC_LOOP = -13,     /* chain longer than num: it loops */
	XA_ERR_DESC_FLAGS = -14,    /* indirect, or wrong direction for this queue */
	XA_ERR_CHAIN_LONG = -15,    /* chain has more segments than the caller accepts */
	XA_ERR_DESC_LEN = -16,      /* zero-length descriptor */

	/* driver side: values read from the device's used ring */
	XA_ERR_USED_IDX = -20,      /* used->idx ran ahead by more than num */
	XA_ERR_USED_ID = -21,       /* used element names a descriptor not in flight */
	XA_ERR_USED_LEN = -22,      /* used length larger than the buffer */
	XA_ERR_RING_FULL = -23,     /* no free descriptor */

	/* RPMsg */
	XA_ERR_MSG_SHORT = -30,     /* buffer shorter than the RPMsg header */
	XA_ERR_MSG_LEN = -31,       /* header len runs past the buffer */
	XA_ERR_NS_NAME = -32,       /* name-service name not terminated / not printable */
	XA_ERR_NS_FLAGS = -33,      /* name-service flags neither create nor destroy */
	XA_ERR_NS_SIZE = -34,       /* name-service message of the wrong size */
	XA_ERR_ADDR_FULL = -35,     /* no free dynamic endpoint address */
	XA_ERR_ADDR_RANGE = -36,    /* address outside the allocator's range */
	XA_ERR_ADDR_BUSY = -37,     /* address already in use */

	/* resource table */
	XA_ERR_RSC = -40,           /* resource table fault; detail in the message */
};

/* Short, stable, human-readable name of a code ("descriptor id out of range").
 * Never NULL. */
const char *xa_strerror(int err);

#endif
