/* Boot of a firmware domain: from start.S's fw_start to fw_main and back
 * to a shutdown. */
#include "fw_priv.h"
#include "hypercall.h"

/* Linker script symbols: the address of __fw_virt_base is VIRT_BASE. */
extern char __fw_virt_base[], __fw_image_end[];

struct xen_shared_info *fw_shared;
static struct fw_info info;
static const uint64_t *p2m;          /* start_info.mfn_list: pfn -> mfn */
static uint64_t nr_pages;

/* Pages of the image whose mapping boot replaces with a frame Xen names:
 * shared_info, the console ring, the xenstore ring. */
static uint8_t map_pages[3][XEN_PAGE_SIZE] __attribute__((aligned(XEN_PAGE_SIZE)));

const struct fw_info *fw_info(void)
{
	return &info;
}

int fw_map_mfn(void *va, uint64_t mfn)
{
	uint64_t pte = (mfn << XEN_PAGE_SHIFT) | X86_PTE_PRESENT | X86_PTE_RW |
		       X86_PTE_USER | X86_PTE_ACCESSED | X86_PTE_DIRTY;

	return (int)hyp_update_va_mapping((uint64_t)(uintptr_t)va, pte, XEN_UVMF_INVLPG);
}

uint64_t fw_virt_to_mfn(const void *va)
{
	uintptr_t a = (uintptr_t)va;
	uintptr_t base = (uintptr_t)__fw_virt_base;
	uint64_t pfn;

	if (a < base || a >= (uintptr_t)__fw_image_end)
		fw_fatal("fw_virt_to_mfn: %p is outside the image", va);
	pfn = (a - base) >> XEN_PAGE_SHIFT;
	if (pfn >= nr_pages)
		fw_fatal("fw_virt_to_mfn: pfn %lu beyond the domain's %lu pages",
			 (unsigned long)pfn, (unsigned long)nr_pages);
	return p2m[pfn];
}

__attribute__((noreturn)) static void shutdown(unsigned reason)
{
	struct xen_sched_shutdown s = { .reason = reason };

	fw_console_flush();
	for (;;)
		(void)hyp_sched_op(XEN_SCHEDOP_shutdown, &s);
}

void fw_poweroff(void)
{
	shutdown(XEN_SHUTDOWN_poweroff);
}

void fw_crash(void)
{
	shutdown(XEN_SHUTDOWN_crash);
}

void fw_fatal(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	fw_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fw_printf("xenamp-fw: fatal: %s\n", line);
	fw_crash();
}

static void copy_str(char *dst, size_t size, const char *src, size_t srcmax)
{
	size_t n = strnlen(src, srcmax);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Without a console there is nobody to tell: crash, and on_crash applies. */
static void map_or_crash(void *va, uint64_t mfn)
{
	if (fw_map_mfn(va, mfn) != 0)
		fw_crash();
}

void fw_boot(const struct xen_start_info *si);
void fw_boot(const struct xen_start_info *si)
{
	int rc;

	/* start_info is read once here; later code uses the copies. */
	nr_pages = si->nr_pages;
	p2m = (const uint64_t *)(uintptr_t)si->mfn_list;
	info.nr_pages = nr_pages;
	info.store_port = si->store_evtchn;
	info.console_port = si->console_evtchn;
	copy_str(info.cmdline, sizeof(info.cmdline), si->cmd_line, sizeof(si->cmd_line));
	copy_str(info.magic, sizeof(info.magic), si->magic, sizeof(si->magic));
	uint64_t shinfo_mfn = si->shared_info >> XEN_PAGE_SHIFT;
	uint64_t cons_mfn = si->console_mfn, store_mfn = si->store_mfn;

	map_or_crash(map_pages[0], shinfo_mfn);
	fw_shared = (struct xen_shared_info *)map_pages[0];
	/* No upcalls ever: every wait is SCHEDOP_poll on explicit ports. */
	fw_shared->vcpu_info[0].evtchn_upcall_mask = 1;
	map_or_crash(map_pages[1], cons_mfn);
	fw_console_init(map_pages[1], info.console_port);
	map_or_crash(map_pages[2], store_mfn);
	fw_xs_init(map_pages[2], info.store_port);

	fw_printf("xenamp-fw: booted %s, %lu pages, image %lu KiB at %p, cmdline '%s'\n",
		  info.magic, (unsigned long)nr_pages,
		  (unsigned long)(((uintptr_t)__fw_image_end - (uintptr_t)__fw_virt_base) / 1024),
		  (void *)__fw_virt_base, info.cmdline);
	rc = fw_main();
	if (rc == 0) {
		fw_printf("xenamp-fw: fw_main returned 0: power off\n");
		fw_poweroff();
	}
	fw_printf("xenamp-fw: fw_main returned %d: crash\n", rc);
	fw_crash();
}
