/* fw_vsnprintf: the small printf the console and the xenstore client use.
 * Pure (no hypercall, no global state): the host's unit tests run it.
 * Supported: flags '0' and '-', a width, precision only as %.*s or %.Ns,
 * sizes l, ll, z; conversions s c d i u x X p %. Anything else is copied
 * out literally, so a bad format shows in the output rather than
 * reading a wrong argument. */
#include "fw.h"

struct out {
	char *buf;
	size_t size;
	size_t len;     /* would-be length */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/* digits of v in base (10 or 16) into tmp, least significant first */
static int digits(char *tmp, unsigned long long v, unsigned base, bool upper)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		tmp[n++] = dig[v % base];
		v /= base;
	} while (v);
	return n;
}

struct spec {
	bool zero, left;
	int width;
	int prec;       /* -1: none */
	int size;       /* 0 int, 1 long, 2 long long, 3 size_t */
};

static void emit_num(struct out *o, const struct spec *sp, unsigned long long v,
		     bool neg, unsigned base, bool upper, const char *prefix)
{
	char tmp[24];
	int n = digits(tmp, v, base, upper);
	int plen = (int)strlen(prefix) + (neg ? 1 : 0);
	int fill = sp->width - n - plen;

	if (!sp->left && !sp->zero)
		pad(o, ' ', fill);
	if (neg)
		put(o, '-');
	while (*prefix)
		put(o, *prefix++);
	if (!sp->left && sp->zero)
		pad(o, '0', fill);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', fill);
}

static void emit_str(struct out *o, const struct spec *sp, const char *s)
{
	int n;

	if (s == NULL)
		s = "(null)";
	n = (int)(sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s));
	if (!sp->left)
		pad(o, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - n);
}

/* Parse flags, width, precision and size after '%'; returns the
 * conversion character's position. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '0')
			sp->zero = true;
		else if (*f == '-')
			sp->left = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9' && sp->width < 1000)
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		} else {
			sp->prec = 0;
			while (*f >= '0' && *f <= '9' && sp->prec < 100000)
				sp->prec = sp->prec * 10 + (*f++ - '0');
		}
	}
	if (*f == 'z') {
		sp->size = 3;
		f++;
	} else {
		while (*f == 'l' && sp->size < 2) {
			sp->size++;
			f++;
		}
	}
	return f;
}

static unsigned long long arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->size) {
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	case 3: return va_arg(*ap, size_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static long long arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->size) {
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	case 3: return (long long)va_arg(*ap, size_t);
	default: return va_arg(*ap, int);
	}
}

int fw_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap0)
{
	struct out o = { buf, size, 0 };
	struct spec sp;
	va_list ap;

	va_copy(ap, ap0);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		const char *start = f;

		f = parse_spec(f + 1, &sp, &ap);
		switch (*f) {
		case 's': emit_str(&o, &sp, va_arg(ap, const char *)); break;
		case 'c': put(&o, (char)va_arg(ap, int)); break;
		case 'd':
		case 'i': {
			long long v = arg_signed(&sp, &ap);
			unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v
						     : (unsigned long long)v;

			emit_num(&o, &sp, m, v < 0, 10, false, "");
			break;
		}
		case 'u': emit_num(&o, &sp, arg_unsigned(&sp, &ap), false, 10, false, ""); break;
		case 'x': emit_num(&o, &sp, arg_unsigned(&sp, &ap), false, 16, false, ""); break;
		case 'X': emit_num(&o, &sp, arg_unsigned(&sp, &ap), false, 16, true, ""); break;
		case 'p':
			emit_num(&o, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false, "0x");
			break;
		case '%': put(&o, '%'); break;
		default:   /* unknown: copy the whole spec out */
			for (; start <= f && *start; start++)
				put(&o, *start);
			if (*f == '\0')
				f--;
			break;
		}
	}
	va_end(ap);
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int fw_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fw_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int fw_parse_ulong(const char *s, unsigned long *v)
{
	unsigned long r = 0;

	if (s == NULL || *s == '\0')
		return -FW_EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -FW_EINVAL;
		if (r > (~0UL - (unsigned long)(*s - '0')) / 10)
			return -FW_EINVAL;
		r = r * 10 + (unsigned long)(*s - '0');
	}
	*v = r;
	return 0;
}
