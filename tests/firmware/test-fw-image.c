/* The firmware image as Xen's PV domain builder will see it
 * (the examples under src/firmware/examples, built by make): a static
 * x86-64 executable with exactly the Xen ELF notes the runtime declares
 * (start.S), coherent with its program headers, and no undefined symbol
 * (it runs with nothing to resolve them).
 *
 * Usage: test-fw-image [IMAGE...]; default: the examples under
 * $top_builddir/src/firmware/examples. */
#include <config.h>

#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/runtime/xen_abi.h"

static int failures, checks;

#define CHECK(cond, ...) do {                                           \
		checks++;                                               \
		if (!(cond)) {                                          \
			failures++;                                     \
			fprintf(stderr, "FAIL: %s: ", #cond);           \
			fprintf(stderr, __VA_ARGS__);                   \
			fputc('\n', stderr);                            \
		}                                                       \
	} while (0)

struct notes {
	bool seen[32];
	char str[32][64];
	uint64_t num[32];
};

static void read_notes(Elf *e, const GElf_Phdr *ph, struct notes *n)
{
	Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_NHDR);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (d == NULL)
		return;
	while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)d->d_buf + name_off;
		const uint8_t *desc = (const uint8_t *)d->d_buf + desc_off;

		if (nh.n_namesz != 4 || memcmp(name, "Xen", 4) != 0 || nh.n_type >= 32)
			continue;
		n->seen[nh.n_type] = true;
		if (nh.n_descsz == 8)
			memcpy(&n->num[nh.n_type], desc, 8);
		size_t len = nh.n_descsz < 63 ? nh.n_descsz : 63;

		memcpy(n->str[nh.n_type], desc, len);
		n->str[nh.n_type][len] = '\0';
	}
}

/* The PT_LOAD that holds [a, a + len) in its file bytes, or NULL. */
static const GElf_Phdr *load_of(const GElf_Phdr *ph, size_t n, uint64_t a, uint64_t len)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && a >= ph[i].p_vaddr &&
		    a + len <= ph[i].p_vaddr + ph[i].p_filesz)
			return &ph[i];
	return NULL;
}

static size_t undefined_symbols(Elf *e)
{
	Elf_Scn *scn = NULL;
	size_t undef = 0;

	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 1; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;

			if (gelf_getsym(d, (int)i, &s) && s.st_shndx == SHN_UNDEF &&
			    GELF_ST_BIND(s.st_info) != STB_WEAK) {
				fprintf(stderr, "undefined: %s\n",
					elf_strptr(e, sh.sh_link, s.st_name));
				undef++;
			}
		}
	}
	return undef;
}

static void check_image(Elf *e)
{
	GElf_Ehdr eh;
	GElf_Phdr ph[16];
	size_t n = 0, notes = 0;
	uint64_t base = UINT64_MAX;
	struct notes nt = { 0 };

	CHECK(gelf_getehdr(e, &eh) != NULL, "no ELF header");
	CHECK(gelf_getclass(e) == ELFCLASS64, "not ELF64");
	CHECK(eh.e_machine == EM_X86_64, "machine %u", eh.e_machine);
	CHECK(eh.e_type == ET_EXEC, "type %u (want a static executable)", eh.e_type);
	CHECK(elf_getphdrnum(e, &n) == 0 && n > 0 && n <= 16, "%zu program headers", n);
	for (size_t i = 0; i < n && i < 16; i++) {
		gelf_getphdr(e, (int)i, &ph[i]);
		CHECK(ph[i].p_type != PT_INTERP && ph[i].p_type != PT_DYNAMIC,
		      "segment %zu needs a dynamic loader", i);
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < base)
			base = ph[i].p_vaddr;
		if (ph[i].p_type == PT_NOTE) {
			notes++;
			read_notes(e, &ph[i], &nt);
		}
	}
	CHECK(notes == 1, "%zu PT_NOTE segments", notes);
	CHECK(nt.seen[XEN_ELFNOTE_XEN_VERSION] && strcmp(nt.str[XEN_ELFNOTE_XEN_VERSION], "xen-3.0") == 0,
	      "XEN_VERSION '%s' (the builder wants xen-3.0)", nt.str[XEN_ELFNOTE_XEN_VERSION]);
	CHECK(nt.seen[XEN_ELFNOTE_LOADER] && strcmp(nt.str[XEN_ELFNOTE_LOADER], "generic") == 0,
	      "LOADER '%s' (want generic)", nt.str[XEN_ELFNOTE_LOADER]);
	CHECK(nt.seen[XEN_ELFNOTE_GUEST_OS] && strcmp(nt.str[XEN_ELFNOTE_GUEST_OS], "xenamp-fw") == 0,
	      "GUEST_OS '%s'", nt.str[XEN_ELFNOTE_GUEST_OS]);
	CHECK(nt.seen[XEN_ELFNOTE_VIRT_BASE] && nt.num[XEN_ELFNOTE_VIRT_BASE] == base &&
	      base % XEN_PAGE_SIZE == 0,
	      "VIRT_BASE 0x%llx, lowest PT_LOAD 0x%llx",
	      (unsigned long long)nt.num[XEN_ELFNOTE_VIRT_BASE], (unsigned long long)base);
	CHECK(nt.seen[XEN_ELFNOTE_PADDR_OFFSET] &&
	      nt.num[XEN_ELFNOTE_PADDR_OFFSET] == nt.num[XEN_ELFNOTE_VIRT_BASE],
	      "PADDR_OFFSET 0x%llx (want VIRT_BASE: physical = virtual addresses)",
	      (unsigned long long)nt.num[XEN_ELFNOTE_PADDR_OFFSET]);
	CHECK(nt.seen[XEN_ELFNOTE_ENTRY] && nt.num[XEN_ELFNOTE_ENTRY] == eh.e_entry,
	      "ENTRY note 0x%llx, e_entry 0x%llx",
	      (unsigned long long)nt.num[XEN_ELFNOTE_ENTRY], (unsigned long long)eh.e_entry);
	const GElf_Phdr *t = load_of(ph, n, eh.e_entry, 1);

	CHECK(t != NULL && (t->p_flags & PF_X), "entry not in an executable segment");
	uint64_t hp = nt.num[XEN_ELFNOTE_HYPERCALL_PAGE];

	t = load_of(ph, n, hp, XEN_PAGE_SIZE);
	CHECK(nt.seen[XEN_ELFNOTE_HYPERCALL_PAGE] && hp % XEN_PAGE_SIZE == 0 && t != NULL &&
	      (t->p_flags & PF_X),
	      "HYPERCALL_PAGE 0x%llx must be a page of an executable segment",
	      (unsigned long long)hp);
	/* A PV image: no PVH entry point, which would make xl build an HVM container */
	CHECK(!nt.seen[XEN_ELFNOTE_PHYS32_ENTRY], "PHYS32_ENTRY present");
	CHECK(undefined_symbols(e) == 0, "undefined symbols");
	printf("image: base 0x%llx, entry 0x%llx, hypercall page 0x%llx, guest os %s\n",
	       (unsigned long long)base, (unsigned long long)eh.e_entry,
	       (unsigned long long)hp, nt.str[XEN_ELFNOTE_GUEST_OS]);
}

static void check_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	Elf *e;

	if (fd < 0) {
		perror(path);
		failures++;
		return;
	}
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e == NULL || elf_kind(e) != ELF_K_ELF) {
		fprintf(stderr, "%s: not an ELF file\n", path);
		failures++;
	} else {
		printf("%s:\n", path);
		check_image(e);
	}
	if (e != NULL)
		elf_end(e);
	close(fd);
}

int main(int argc, char **argv)
{
	static const char *const examples[] = { "hello/hello.elf", "echo/echo.elf" };
	const char *top = getenv("top_builddir");
	char path[4096];

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 99;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			check_file(argv[i]);
	} else {
		for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
			snprintf(path, sizeof(path), "%s/src/firmware/examples/%s",
				 top ? top : ".", examples[i]);
			check_file(path);
		}
	}
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
