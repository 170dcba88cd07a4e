/* OpenAMP API group: the endpoint and device structures applications
 * touch: rpmsg_endpoint.refcnt / release_cb / node, rpmsg_device.endpoints
 * / ns_ept / ns_bind_cb / ns_unbind_cb / support_ns, the
 * rpmsg_ept_release_cb type and RPMSG_ADDR_BMP_SIZE; and that the backend
 * withdraws, for a partition that dies, only the services the partition
 * would have withdrawn itself (none below 1024).
 *
 * fw: endpoints A, B, D with a release_cb, C without. The host asks A to
 * destroy itself from inside its receive callback (released when the
 * callback returns, not before), and withdraws its end of B, whose
 * ns_unbind_cb destroys B (released when that returns); then fw says
 * "done" on C. The host dies without closing (_exit): fw must see the
 * withdrawal of the host's service at a dynamic address, and none for
 * the one at address 0. Closing the device releases D (release_cb) and C. */
#include <unistd.h>

#include "oa-pair.h"

static struct rpmsg_endpoint A, B, C, D;
static volatile int relA, relB, relD, a_in_cb_ok, b_unbind_ok, step_done;
static volatile int host_dyn_gone, host_zero_gone, host_zero_bound;
static int dev_unbind_b;

static void rel_cb(struct rpmsg_endpoint *e)
{
	/* The library holds nothing of e any more. */
	OA_CHECK(e->rdev == NULL);
	OA_CHECK(e->refcnt == 0);
	if (e == &A)
		relA++;
	else if (e == &B)
		relB++;
	else if (e == &D)
		relD++;
}

static int a_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src,
		void *priv)
{
	(void)src; (void)priv;
	if (len == 10 && memcmp(data, "destroy-me", 10) == 0) {
		/* The running callback holds a reference. */
		OA_CHECK(e->refcnt == 2);
		rpmsg_destroy_ept(e);
		OA_CHECK(e->rdev == NULL);
		OA_CHECK(e->refcnt == 1);
		OA_CHECK(relA == 0);   /* not before this callback returns */
		a_in_cb_ok = 1;
	}
	return RPMSG_SUCCESS;
}

static int any_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src,
		  void *priv)
{
	(void)e; (void)data; (void)len; (void)src; (void)priv;
	return RPMSG_SUCCESS;
}

static void b_unbind(struct rpmsg_endpoint *e)
{
	OA_CHECK(e == &B);
	OA_CHECK(e->dest_addr == RPMSG_ADDR_ANY);
	OA_CHECK(e->refcnt == 2);
	rpmsg_destroy_ept(e);
	OA_CHECK(relB == 0);
	b_unbind_ok = 1;
}

static void fw_dev_unbind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	(void)rdev;
	if (strcmp(name, "oa-ept-b") == 0)
		dev_unbind_b++;   /* after b_unbind, for the same withdrawal */
	else if (strcmp(name, "oa-host-dyn") == 0 && dest >= RPMSG_RESERVED_ADDRESSES)
		host_dyn_gone = 1;
	else if (strcmp(name, "oa-host-zero") == 0)
		host_zero_gone = 1;
}

static void fw_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	(void)rdev;
	if (strcmp(name, "oa-host-zero") == 0 && dest == 0)
		host_zero_bound = 1;
}

static void fw_check_list(struct rpmsg_device *rdev)
{
	struct metal_list *n;
	int count = 0, seen = 0;

	OA_CHECK(rdev->support_ns);
	OA_CHECK(RPMSG_ADDR_BMP_SIZE >= 128);
	OA_CHECK(rdev->endpoints.next == &rdev->ns_ept.node);
	OA_CHECK(rdev->ns_ept.addr == RPMSG_NS_EPT_ADDR);
	for (n = rdev->endpoints.next; n != &rdev->endpoints; n = n->next) {
		struct rpmsg_endpoint *e = (struct rpmsg_endpoint *)
			((char *)n - offsetof(struct rpmsg_endpoint, node));

		count++;
		seen |= (e == &A) | (e == &B) << 1 | (e == &C) << 2 | (e == &D) << 3;
		OA_CHECK(e->rdev == rdev);
		OA_CHECK(e->refcnt == 1);
	}
	OA_CHECK(count == 5);
	OA_CHECK(seen == 15);
}

static int fw(struct rpmsg_device *rdev, void *platform)
{
	rpmsg_ept_release_cb rel = rel_cb;

	rdev->ns_unbind_cb = fw_dev_unbind;
	A.release_cb = rel;
	B.release_cb = rel;
	D.release_cb = rel;
	OA_CHECK(rpmsg_create_ept(&A, rdev, "oa-ept-a", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				  a_cb, NULL) == 0);
	OA_CHECK(rpmsg_create_ept(&B, rdev, "oa-ept-b", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				  any_cb, b_unbind) == 0);
	OA_CHECK(rpmsg_create_ept(&C, rdev, "oa-ept-c", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				  any_cb, NULL) == 0);
	OA_CHECK(rpmsg_create_ept(&D, rdev, "oa-ept-d", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				  any_cb, NULL) == 0);
	fw_check_list(rdev);
	printf("oa-endpoint fw: ready\n");
	fflush(stdout);

	OA_CHECK(oa_poll_until(platform, &relA, 20.0));
	OA_CHECK(a_in_cb_ok && relA == 1);
	OA_CHECK(oa_poll_until(platform, &relB, 10.0));
	OA_CHECK(b_unbind_ok && relB == 1 && dev_unbind_b == 1);
	OA_CHECK(rpmsg_send(&C, "done", 4) == 4);

	/* The host dies; the backend speaks for it. */
	OA_CHECK(oa_poll_until(platform, &host_dyn_gone, 10.0));
	{
		volatile int never = 0;

		(void)oa_poll_until(platform, &never, 0.5);
	}
	OA_CHECK(host_zero_bound);
	OA_CHECK(!host_zero_gone);
	OA_CHECK(relD == 0);
	platform_release_rpmsg_vdev(rdev, platform);
	OA_CHECK(relD == 1);   /* closing released D */
	OA_CHECK(relA == 1 && relB == 1);
	OA_CHECK(C.rdev == NULL && D.rdev == NULL);
	platform_cleanup(platform);
	printf("oa-endpoint fw: %s\n", oa_failures ? "FAILED" : "ok");
	return oa_failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */

static struct rpmsg_endpoint ha, hb, hc, hzero, hdyn;
static volatile int hbound;

static int hc_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src,
		 void *priv)
{
	(void)e; (void)src; (void)priv;
	if (len == 4 && memcmp(data, "done", 4) == 0)
		step_done = 1;
	return RPMSG_SUCCESS;
}

static void host_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	struct rpmsg_endpoint *e = strcmp(name, "oa-ept-a") == 0 ? &ha :
				   strcmp(name, "oa-ept-b") == 0 ? &hb :
				   strcmp(name, "oa-ept-c") == 0 ? &hc : NULL;

	if (e == NULL)
		return;
	OA_CHECK(rpmsg_create_ept(e, rdev, name, RPMSG_ADDR_ANY, dest,
				  e == &hc ? hc_cb : any_cb, NULL) == 0);
	hbound++;
}

static int host(struct rpmsg_device *rdev, void *platform)
{
	double end = oa_now() + 10.0;

	/* Announced services: one at reserved address 0, one dynamic. */
	OA_CHECK(rpmsg_create_ept(&hzero, rdev, "oa-host-zero", 0, RPMSG_ADDR_ANY,
				  any_cb, NULL) == 0);
	OA_CHECK(rpmsg_create_ept(&hdyn, rdev, "oa-host-dyn", RPMSG_ADDR_ANY,
				  RPMSG_ADDR_ANY, any_cb, NULL) == 0);
	while (hbound < 3 && oa_now() < end)
		(void)platform_poll(platform);
	OA_CHECK(hbound == 3);
	OA_CHECK(rpmsg_send(&hb, "hello", 5) == 5);   /* binds B to hb */
	OA_CHECK(rpmsg_send(&hc, "hello", 5) == 5);   /* and C to hc */
	OA_CHECK(rpmsg_send(&ha, "destroy-me", 10) == 10);
	rpmsg_destroy_ept(&hb);                      /* B's ns_unbind_cb */
	OA_CHECK(oa_poll_until(platform, &step_done, 10.0));
	printf("oa-endpoint host: %s\n", oa_failures ? "FAILED" : "ok");
	fflush(stdout);
	/* Die without closing anything, as a crashed partition. */
	_exit(oa_failures ? 1 : 0);
}

int main(int argc, char *argv[])
{
	int is_host = oa_start("oa-endpoint", argc, argv);
	void *platform;
	struct rpmsg_device *rdev = oa_open(&platform, argc, argv,
					    is_host ? host_bind : fw_bind);

	return is_host ? host(rdev, platform) : fw(rdev, platform);
}
