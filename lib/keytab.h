/*
 * An open-addressing index of positions: the owner keeps its keys in its
 * own array, the table maps a key to the key's position there.  It is
 * the table under strmap, the schema's columns and tables by name, and
 * dedup-merge's held records.  The caller hashes the key once
 * (keytab_hash, to which dedup-merge adds its stream) and compares keys
 * (keytab_same_fn) only when 32 bits of hash agree.
 *
 * A slot holds position + 1 (0: empty) and 32 bits of the key's hash:
 * enough to skip most other keys without looking at them, and to place
 * every key again when the table grows, without asking the owner.
 *
 * The hash is keyed (SipHash-2-4, libsodium's crypto_shorthash) with a
 * seed drawn at random once a process: keys chosen to collide (column
 * names, dedup keys) cannot make the probes quadratic.  So no order of
 * the table may ever reach an output: two runs place keys differently.
 *
 * Adding a key, as Redis's dictFindPositionForInsert splits dictAddRaw:
 *
 *	keytab_reserve(t, count + 1);	(room first: the slot stays good)
 *	h = keytab_hash(key, len);
 *	pos = keytab_find_position(t, h, same, owner, key, len, &slot);
 *	if (pos == -1)
 *		keytab_insert(t, slot, h, count++);
 *
 * A zeroed struct keytab is an empty table.  Growth goes through xalloc.
 */
#ifndef KEYTAB_H
#define KEYTAB_H

#include <stddef.h>
#include <stdint.h>

/* The most positions one table holds (a slot stores position + 1). */
#define KEYTAB_MAX	((size_t)UINT32_MAX - 1)
/* The bytes of a seed (keytab_seed). */
#define KEYTAB_SEEDBYTES 16

struct keytab_slot {
	uint32_t	 pos;		/* position + 1; 0: empty */
	uint32_t	 hash;		/* the low 32 bits of the key's hash */
};

struct keytab {
	struct keytab_slot *slots;
	size_t		 cap;		/* 0 or a power of two */
	size_t		 n;		/* slots in use */
	size_t		 first;		/* the first capacity, a power of two; 0: 16 */
};

/* 1 if the owner's key at pos is the len bytes at key. */
typedef int (*keytab_same_fn)(const void *owner, size_t pos, const void *key,
    size_t len);

/* The seeded hash of the len bytes at key.  Never persist it. */
uint64_t keytab_hash(const void *key, size_t len);
/* Replace this process's seed (for tests: a known placement). */
void	keytab_seed(const unsigned char seed[KEYTAB_SEEDBYTES]);

/*
 * Room for count keys in all (count <= KEYTAB_MAX): 1 if the table grew
 * (slots found before are then stale), 0 if not.
 */
int	keytab_reserve(struct keytab *, size_t count);
/* The bytes the slots take now, and after keytab_reserve(count). */
size_t	keytab_bytes(const struct keytab *);
size_t	keytab_bytes_for(const struct keytab *, size_t count);

/* The position of the key, or -1 (also in a table never reserved). */
long	keytab_find(const struct keytab *, uint64_t hash, keytab_same_fn same,
	    const void *owner, const void *key, size_t len);
/*
 * The position of the key, or -1 and in *slot where keytab_insert puts
 * it.  That slot is good for keytab_insert only if the table had room
 * for one more key (keytab_reserve) when it was found, and until the
 * next insert, clear or reserve that grows.
 */
long	keytab_find_position(const struct keytab *, uint64_t hash,
	    keytab_same_fn same, const void *owner, const void *key, size_t len,
	    size_t *slot);
/* Record position pos (< KEYTAB_MAX) for hash at a slot found above. */
void	keytab_insert(struct keytab *, size_t slot, uint64_t hash, size_t pos);

/* Forget the positions from n on (the owner dropped them); keep memory. */
void	keytab_truncate(struct keytab *, size_t n);
/* Forget every position; keep memory. */
void	keytab_clear(struct keytab *);
void	keytab_free(struct keytab *);

#endif
