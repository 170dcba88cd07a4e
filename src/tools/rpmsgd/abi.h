/* The Linux rpmsg character-device ABI (<linux/rpmsg.h>) as xenamp-rpmsgd
 * serves it: the pure parts, without CUSE or libxenamp, so that they are
 * unit-tested (tests/unit/test_rpmsgd.c).
 *
 * Debian 12's linux-libc-dev (Linux 6.1) defines four ioctls:
 * RPMSG_CREATE_EPT_IOCTL, RPMSG_DESTROY_EPT_IOCTL, RPMSG_CREATE_DEV_IOCTL
 * and RPMSG_RELEASE_DEV_IOCTL. The flow-control ioctls of later kernels
 * (RPMSG_GET_OUTGOING_FLOWCONTROL, RPMSG_SET_INCOMING_FLOWCONTROL) are
 * served only when the header that the daemon is built against has them.
 *
 * Everything here takes values from a client process (ioctl arguments,
 * buffer sizes) as untrusted: sizes are checked, names are terminated. */
#ifndef XENAMP_RPMSGD_ABI_H
#define XENAMP_RPMSGD_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RD_NAME_SIZE 32   /* struct rpmsg_endpoint_info.name, RPMSG_NAME_SIZE */
#define RD_ADDR_ANY 0xFFFFFFFFu

/* struct rpmsg_channel_info of the kernel: what an endpoint device or a
 * channel was created with. name is always NUL-terminated. */
struct rd_chinfo {
	char name[RD_NAME_SIZE];
	uint32_t src;
	uint32_t dst;
};

enum rd_ioc {
	RD_IOC_UNKNOWN = 0,
	RD_IOC_CREATE_EPT,   /* control device */
	RD_IOC_CREATE_DEV,   /* control device */
	RD_IOC_RELEASE_DEV,  /* control device */
	RD_IOC_DESTROY_EPT,  /* endpoint device */
	RD_IOC_SET_INCOMING_FLOWCONTROL, /* endpoint device, newer headers only */
	RD_IOC_GET_OUTGOING_FLOWCONTROL, /* endpoint device, newer headers only */
};

/* Which ioctl cmd is, on the control device (ctrl true) or on an
 * endpoint device; RD_IOC_UNKNOWN for anything that device does not serve
 * (the caller answers EINVAL, as the kernel does). */
enum rd_ioc rd_ioc_kind(unsigned cmd, bool ctrl);

/* The size of the argument the ioctl carries in (0 for none). */
size_t rd_ioc_in_size(enum rd_ioc kind);

/* Parse a struct rpmsg_endpoint_info of in_len bytes into *out, as the
 * kernel's control device does: the name is cut to 31 bytes and
 * terminated. 0, or -EINVAL when in_len is not the struct's size (or in
 * is NULL). */
int rd_parse_eptinfo(const void *in, size_t in_len, struct rd_chinfo *out);

/* The kernel's rpmsg_device_match(): pattern matches ch when the names are
 * equal and pattern's src and dst are each RD_ADDR_ANY or equal. */
bool rd_chinfo_match(const struct rd_chinfo *pattern, const struct rd_chinfo *ch);

/* Bytes a read(2) of `want` bytes returns from a message of msg_len
 * bytes: the smaller. The rest of the message is discarded, as
 * rpmsg_char does (one message per read). */
size_t rd_read_len(size_t want, size_t msg_len);

/* 0 when a write(2) of len bytes fits one message of at most payload_max
 * bytes, else -EMSGSIZE (the kernel's virtio bus refuses larger sends). */
int rd_write_check(size_t len, int payload_max);

/* The errno (negative) for a libxenamp RPMSG_ERR_* code (any other
 * negative value: -EIO). */
int rd_errno_from_rpmsg(int rpmsg_err);

/* Copy a name that came from a peer or a client into out (outlen >= 1)
 * for a log line or a file: bytes outside printable ASCII, blanks and
 * backslashes become '?'; an empty name becomes "-". */
void rd_safe_name(const char *name, size_t maxlen, char *out, size_t outlen);

#endif
