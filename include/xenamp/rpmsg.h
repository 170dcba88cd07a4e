/* OpenAMP-compatible RPMsg API of libxenamp (docs/design.md#frontend-api).
 *
 * Same names, signatures, return codes and semantics as OpenAMP's
 * lib/include/openamp/rpmsg.h, so that an application written against
 * OpenAMP compiles unchanged. Only the device set-up differs: get a
 * struct rpmsg_device from xenamp_open()/xenamp_rpmsg_dev() (xenamp.h)
 * instead of rpmsg_init_vdev().
 *
 * Threading: every function may be called from any thread. Endpoint
 * callbacks, name-service bind and unbind callbacks run in the thread that
 * calls xenamp_dispatch(), without any library lock held, so a callback may
 * send, create or destroy endpoints, and hold or release buffers. */
#ifndef XENAMP_RPMSG_H
#define XENAMP_RPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xenamp_dev;

#define RPMSG_NAME_SIZE          (32)
/* Number of addresses rpmsg_create_ept() hands out for RPMSG_ADDR_ANY
 * (RPMSG_RESERVED_ADDRESSES up). OpenAMP's default is 128; libxenamp's
 * table is fixed at this size (an application cannot change it). */
#define RPMSG_ADDR_BMP_SIZE      (1024)
#define RPMSG_NS_EPT_ADDR        (0x35)
#define RPMSG_RESERVED_ADDRESSES (1024)
#define RPMSG_ADDR_ANY           0xFFFFFFFF

/* Error codes (OpenAMP's values). */
#define RPMSG_SUCCESS            0
#define RPMSG_ERROR_BASE         -2000
#define RPMSG_ERR_NO_MEM         (RPMSG_ERROR_BASE - 1)
#define RPMSG_ERR_NO_BUFF        (RPMSG_ERROR_BASE - 2)
#define RPMSG_ERR_PARAM          (RPMSG_ERROR_BASE - 3)
#define RPMSG_ERR_DEV_STATE      (RPMSG_ERROR_BASE - 4)
#define RPMSG_ERR_BUFF_SIZE      (RPMSG_ERROR_BASE - 5)
#define RPMSG_ERR_INIT           (RPMSG_ERROR_BASE - 6)
#define RPMSG_ERR_ADDR           (RPMSG_ERROR_BASE - 7)
#define RPMSG_ERR_PERM           (RPMSG_ERROR_BASE - 8)
#define RPMSG_EOPNOTSUPP         (RPMSG_ERROR_BASE - 9)

struct rpmsg_endpoint;
struct rpmsg_device;

/* A node of a circular doubly linked list, laid out as libmetal's (the
 * endpoint list is one; <metal/list.h> of the compatibility headers
 * provides the operations on it). Defined once for both headers. */
#ifndef XENAMP_METAL_LIST_DEFINED
#define XENAMP_METAL_LIST_DEFINED
struct metal_list {
	struct metal_list *next, *prev;
};
#endif

/* Receive callback: data points to the payload (len bytes) inside the
 * shared RX buffer, valid until the callback returns unless the buffer is
 * held with rpmsg_hold_rx_buffer(). Return RPMSG_SUCCESS. */
typedef int (*rpmsg_ept_cb)(struct rpmsg_endpoint *ept, void *data,
			    size_t len, uint32_t src, void *priv);
/* The remote service this endpoint was bound to announced its destruction
 * (ept->dest_addr is back to RPMSG_ADDR_ANY). */
typedef void (*rpmsg_ns_unbind_cb)(struct rpmsg_endpoint *ept);
/* The remote announced service `name` at address `dest` and no local
 * endpoint waits for it (rpmsg_device.ns_bind_cb); or, as
 * rpmsg_device.ns_unbind_cb, the remote withdrew service `name` at
 * `dest` (called for every withdrawal, after the bound endpoint's own
 * ns_unbind_cb). */
typedef void (*rpmsg_ns_bind_cb)(struct rpmsg_device *rdev,
				 const char *name, uint32_t dest);
/* The endpoint is released for good: the library holds no reference to it
 * any more and its storage may be freed (rpmsg_endpoint.release_cb). */
typedef void (*rpmsg_ept_release_cb)(struct rpmsg_endpoint *ept);

/* Binds a local RPMsg address to its user. The application provides the
 * storage and may set priv and release_cb before rpmsg_create_ept(); the
 * other public fields are filled by rpmsg_create_ept(). Same members, in
 * the same order, as OpenAMP's.
 *
 * Release (as OpenAMP): rpmsg_create_ept() sets refcnt to 1 and
 * rpmsg_destroy_ept() drops that reference. When the endpoint has a
 * release_cb, each of its running callbacks (receive, ns_unbind_cb) holds
 * one more, so release_cb runs once, when the last goes: at the end of
 * rpmsg_destroy_ept(), or when the callback that destroyed its own
 * endpoint returns. Only then may the storage be freed. Without a
 * release_cb the storage is free as soon as rpmsg_destroy_ept() returns
 * (it waits for a callback of the endpoint running in another thread),
 * and nothing touches the endpoint after its own callback returns, so
 * the callback may destroy and free it. release_cb runs with rdev
 * already NULL, in the destroying or dispatching thread, without any
 * library lock. xenamp_close() destroys the endpoints left (release_cb
 * included). */
struct rpmsg_endpoint {
	/* Name of the service supported */
	char name[RPMSG_NAME_SIZE];
	/* The RPMsg device; NULL once destroyed */
	struct rpmsg_device *rdev;
	/* Local address of the endpoint */
	uint32_t addr;
	/* Address of the default remote endpoint bound */
	uint32_t dest_addr;
	/* References held (see above); read-only for the application */
	uint32_t refcnt;
	/* Called when the endpoint is released for good; may be NULL */
	rpmsg_ept_release_cb release_cb;
	/* Receive callback */
	rpmsg_ept_cb cb;
	/* Called when the remote service bound to this endpoint goes away */
	rpmsg_ns_unbind_cb ns_unbind_cb;
	/* In rdev->endpoints while registered; read-only for the
	 * application (and only while no other thread creates or destroys
	 * endpoints: there is no public lock) */
	struct metal_list node;
	/* Private data for the application's use, passed to cb */
	void *priv;

	/* libxenamp private: do not touch */
	uint32_t xa_flags;
};

/* The RPMsg device, from xenamp_rpmsg_dev() (or platform_create_rpmsg_vdev()
 * of the OpenAMP compatibility layer). The public members are OpenAMP's
 * that applications use; the device itself is libxenamp's (never copy it).
 * The application may set ns_bind_cb, ns_unbind_cb and support_ns before
 * traffic starts (as with OpenAMP, right after the device is set up);
 * they are read in the dispatching thread. */
struct rpmsg_device {
	/* Registered endpoints (rpmsg_endpoint.node), the name-service one
	 * first; read-only for the application */
	struct metal_list endpoints;
	/* The name-service endpoint (address RPMSG_NS_EPT_ADDR) */
	struct rpmsg_endpoint ns_ept;
	/* The remote announced a service no local endpoint waits for */
	rpmsg_ns_bind_cb ns_bind_cb;
	/* The remote withdrew a service (OpenAMP gives it the bind type) */
	rpmsg_ns_bind_cb ns_unbind_cb;
	/* Announce named endpoints to the remote (true: xenamp-backend
	 * relays the name service on every link). When false,
	 * rpmsg_create_ept() and rpmsg_destroy_ept() send no announcement,
	 * as in OpenAMP without VIRTIO_RPMSG_F_NS. */
	bool support_ns;

	/* libxenamp private: do not touch */
	uint32_t xa_magic;
	struct xenamp_dev *xa_dev;
};

/* libxenamp private: dest_addr as the dispatching thread last set it (the
 * name service binds and unbinds it there while other threads send). */
static inline uint32_t xa_ept_dest_addr(const struct rpmsg_endpoint *ept)
{
	return __atomic_load_n(&ept->dest_addr, __ATOMIC_ACQUIRE);
}

/* Send len bytes of data from address src to remote address dst. wait:
 * block up to 15 s for a free TX buffer (sleeping on the backend's
 * notification), else fail at once. A message longer than the TX payload
 * size (rpmsg_get_tx_buffer_size()) is truncated to it, as in OpenAMP.
 * Returns the number of bytes sent, or RPMSG_ERR_PARAM (NULL ept or data,
 * dst RPMSG_ADDR_ANY, len < 0), RPMSG_ERR_NO_BUFF (no TX buffer in time),
 * RPMSG_ERR_DEV_STATE (the link is gone). */
int rpmsg_send_offchannel_raw(struct rpmsg_endpoint *ept, uint32_t src,
			      uint32_t dst, const void *data, int len,
			      int wait);

/* Blocking sends (up to 15 s for a TX buffer, then RPMSG_ERR_NO_BUFF). */
static inline int rpmsg_send(struct rpmsg_endpoint *ept, const void *data,
			     int len)
{
	if (!ept)
		return RPMSG_ERR_PARAM;
	return rpmsg_send_offchannel_raw(ept, ept->addr, xa_ept_dest_addr(ept), data,
					 len, true);
}

static inline int rpmsg_sendto(struct rpmsg_endpoint *ept, const void *data,
			       int len, uint32_t dst)
{
	if (!ept)
		return RPMSG_ERR_PARAM;
	return rpmsg_send_offchannel_raw(ept, ept->addr, dst, data, len, true);
}

static inline int rpmsg_send_offchannel(struct rpmsg_endpoint *ept,
					uint32_t src, uint32_t dst,
					const void *data, int len)
{
	return rpmsg_send_offchannel_raw(ept, src, dst, data, len, true);
}

/* Non-blocking sends: RPMSG_ERR_NO_BUFF at once when no TX buffer is free. */
static inline int rpmsg_trysend(struct rpmsg_endpoint *ept, const void *data,
				int len)
{
	if (!ept)
		return RPMSG_ERR_PARAM;
	return rpmsg_send_offchannel_raw(ept, ept->addr, xa_ept_dest_addr(ept), data,
					 len, false);
}

static inline int rpmsg_trysendto(struct rpmsg_endpoint *ept, const void *data,
				  int len, uint32_t dst)
{
	if (!ept)
		return RPMSG_ERR_PARAM;
	return rpmsg_send_offchannel_raw(ept, ept->addr, dst, data, len, false);
}

static inline int rpmsg_trysend_offchannel(struct rpmsg_endpoint *ept,
					   uint32_t src, uint32_t dst,
					   const void *data, int len)
{
	return rpmsg_send_offchannel_raw(ept, src, dst, data, len, false);
}

/* Keep the RX buffer rxbuf (the data pointer a receive callback got) out
 * of the ring after the callback returns. Only valid inside that callback.
 * Each hold needs one rpmsg_release_rx_buffer(). */
void rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf);

/* Give a held RX buffer back to the ring (any thread). */
void rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf);

/* Reserve a TX buffer and return its payload area (*len: its size), for
 * rpmsg_send*_nocopy(). wait: as for the blocking sends. NULL when no
 * buffer could be had (or the link is gone, or bad arguments). */
void *rpmsg_get_tx_payload_buffer(struct rpmsg_endpoint *ept,
				  uint32_t *len, int wait);

/* Return a reserved TX buffer without sending it. RPMSG_SUCCESS, or
 * RPMSG_ERR_PARAM when txbuf is not a reserved TX buffer of this device.
 * Do not release a buffer twice. */
int rpmsg_release_tx_buffer(struct rpmsg_endpoint *ept, void *txbuf);

/* Payload size of a TX / RX buffer (buffer size minus the 16-byte
 * header), or RPMSG_ERR_PARAM. */
int rpmsg_get_tx_buffer_size(struct rpmsg_endpoint *ept);
int rpmsg_get_rx_buffer_size(struct rpmsg_endpoint *ept);

/* Send the reserved TX buffer data (len payload bytes) from src to dst.
 * On success the buffer belongs to the library again; on failure it stays
 * reserved (retry, or release it). Returns len, or RPMSG_ERR_PARAM,
 * RPMSG_ERR_BUFF_SIZE (len larger than the buffer), RPMSG_ERR_DEV_STATE. */
int rpmsg_send_offchannel_nocopy(struct rpmsg_endpoint *ept, uint32_t src,
				 uint32_t dst, const void *data, int len);

static inline int rpmsg_sendto_nocopy(struct rpmsg_endpoint *ept,
				      const void *data, int len, uint32_t dst)
{
	if (!ept)
		return RPMSG_ERR_PARAM;
	return rpmsg_send_offchannel_nocopy(ept, ept->addr, dst, data, len);
}

static inline int rpmsg_send_nocopy(struct rpmsg_endpoint *ept,
				    const void *data, int len)
{
	if (!ept)
		return RPMSG_ERR_PARAM;
	return rpmsg_send_offchannel_nocopy(ept, ept->addr, xa_ept_dest_addr(ept),
					    data, len);
}

/* Create an endpoint and register it with rdev. src RPMSG_ADDR_ANY takes
 * the next free address from 1024 up; a fixed src >= 1024 must be free
 * (else RPMSG_ERR_ADDR; RPMSG_ERR_PARAM when outside the managed range).
 * An endpoint with a name and dest RPMSG_ADDR_ANY is announced to the
 * remote by the name service; it binds (dest_addr set) when the remote
 * announces the same name, or when its first message arrives.
 * Returns 0 or a negative RPMSG_ERR_* code. */
int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev,
		     const char *name, uint32_t src, uint32_t dest,
		     rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb);

/* Announce the destruction (named endpoints with an address >= 1024),
 * unregister, and set ept->rdev to NULL. When the endpoint's callback is
 * running in another thread, waits for it to return. Drops the reference
 * rpmsg_create_ept() took (release_cb, see struct rpmsg_endpoint). */
void rpmsg_destroy_ept(struct rpmsg_endpoint *ept);

/* 1 when the endpoint is registered and bound to a remote address. */
static inline unsigned int is_rpmsg_ept_ready(struct rpmsg_endpoint *ept)
{
	return ept && ept->rdev && xa_ept_dest_addr(ept) != RPMSG_ADDR_ANY;
}

#ifdef __cplusplus
}
#endif

#endif
