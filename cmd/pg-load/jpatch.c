#include "jpatch.h"

static void
member(struct jbuf *out, int *n, const struct jval *key)
{
	if ((*n)++ > 0)
		jbuf_putc(out, ',');
	jbuf_str(out, key->key, key->keylen);
	jbuf_putc(out, ':');
}

void
jpatch_write(struct jbuf *out, const struct jval *target,
    const struct jval *patch)
{
	const struct jval *m, *p;
	int n = 0;

	if (patch->type != JV_OBJECT) {
		jval_write(out, patch);
		return;
	}
	if (target != NULL && target->type != JV_OBJECT)
		target = NULL;
	jbuf_putc(out, '{');
	/* The target's members in their order, patched or removed. */
	for (m = target != NULL ? target->child : NULL; m != NULL; m = m->next) {
		if (m->shadowed)
			continue;
		if ((p = jval_getn(patch, m->key, m->keylen)) == NULL) {
			member(out, &n, m);
			jval_write(out, m);
		} else if (p->type != JV_NULL) {
			member(out, &n, m);
			jpatch_write(out, m, p);
		}
	}
	/* Then the patch's new members, their own nulls taken out. */
	for (p = patch->child; p != NULL; p = p->next) {
		if (p->shadowed || p->type == JV_NULL || (target != NULL &&
		    jval_getn(target, p->key, p->keylen) != NULL))
			continue;
		member(out, &n, p);
		jpatch_write(out, NULL, p);
	}
	jbuf_putc(out, '}');
}
