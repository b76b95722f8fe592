// SPDX-License-Identifier: GPL-2.0
/* The collector from user space (collector.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "vfio-collector.skel.h"
#include "process.h"

/* coll_life.gen: released (bpf/vfio-collector.bpf.c). */
#define GEN_RELEASED	(1ULL << 63)

/* The maps a reader needs, by their names in the object and under the pin dir. */
static const char *const pinned_maps[] = {
	"settings", "dma", "life", "errors", "hists", "groups", "processes",
	"lost", "events", "stack_events", "stack_lost", "lat_stats", "lat_bank",
};
#define NR_PINNED (sizeof(pinned_maps) / sizeof(pinned_maps[0]))

static int *map_fd_slot(struct collector *c, size_t i)
{
	int *slots[NR_PINNED] = {
		&c->settings_fd, &c->dma_fd, &c->life_fd, &c->errors_fd,
		&c->hists_fd, &c->groups_fd, &c->processes_fd, &c->lost_fd,
		&c->events_fd, &c->stack_events_fd, &c->stack_lost_fd,
		&c->lat_stats_fd, &c->lat_bank_fd,
	};

	return slots[i];
}

static struct collector *collector_new(void)
{
	struct collector *c = calloc(1, sizeof(*c));
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; i < NR_PINNED; i++)
		*map_fd_slot(c, i) = -1;
	c->pin_lock_fd = -1;
	c->ncpus = common_nr_cpus();
	return c;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns()'s clock. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int settings_map(struct collector *c)
{
	void *p = mmap(NULL, sizeof(*c->cfg), PROT_READ | PROT_WRITE, MAP_SHARED,
		       c->settings_fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	c->cfg = p;
	return 0;
}

/* A snapshot of the settings; each field as one load. */
static void settings_read(const struct collector *c, struct coll_config *cfg)
{
	memcpy(cfg, c->cfg, sizeof(*cfg));
}

#define SET(c, field, v)	__atomic_store_n(&(c)->cfg->field, (v), __ATOMIC_RELEASE)
#define GET(c, field)		__atomic_load_n(&(c)->cfg->field, __ATOMIC_ACQUIRE)

/* Whether a settings entry names a live collector of our layout. */
static bool settings_live(const struct coll_config *cfg)
{
	return cfg->version == COLL_VERSION && cfg->owner_pid &&
	       process_is(cfg->owner_pid, cfg->owner_start);
}

static int own_start_ns(uint64_t *ns);

static int pin_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", COLLECTOR_PIN_DIR, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int collector_open_shared(struct collector **out)
{
	struct collector *c = collector_new();
	struct coll_config cfg;
	char path[PATH_MAX];
	size_t i;
	int err = 0;

	if (!c)
		return -ENOMEM;
	for (i = 0; i < NR_PINNED && !err; i++) {
		err = pin_path(path, sizeof(path), pinned_maps[i]);
		if (!err && (*map_fd_slot(c, i) = bpf_obj_get(path)) < 0)
			err = errno == ENOENT ? -ENOENT : -errno;
	}
	if (!err)
		err = settings_map(c);
	if (!err)
		settings_read(c, &cfg);
	/* Checked after opening the maps: pins of a dead owner are stale. */
	if (!err && !settings_live(&cfg))
		err = -ENOENT;
	if (err) {
		collector_free(c);
		return err;
	}
	c->shared = true;
	c->owner = cfg.owner_pid;
	c->mode = cfg.mode;
	*out = c;
	return 0;
}

void collector_say_reading(const struct collector *c, const char *tool)
{
	fprintf(stderr, "%s: reading the collector of pid %d (%s), attaching nothing\n",
		tool, c->owner, attach_mode_name(c->mode));
}

static void take_fds(struct collector *c)
{
	struct vfio_collector *s = c->skel;
	struct bpf_map *maps[NR_PINNED] = {
		s->maps.settings, s->maps.dma, s->maps.life, s->maps.errors,
		s->maps.hists, s->maps.groups, s->maps.processes, s->maps.lost,
		s->maps.events, s->maps.stack_events, s->maps.stack_lost,
		s->maps.lat_stats, s->maps.lat_bank,
	};
	size_t i;

	for (i = 0; i < NR_PINNED; i++)
		*map_fd_slot(c, i) = bpf_map__fd(maps[i]);
}

/*
 * btf: the BTF to relocate against, when the kernel has none (--btf), or
 * NULL; task_btf: whether the programs may use the task's BTF pointer.
 */
static int load_ids_btf(struct collector **out, enum vfio_attach_mode mode, bool attach,
			enum intree_ids_use ids, const char *tool, const char *btf,
			bool task_btf)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf);
	struct collector *c = collector_new();
	int err;

	if (!c)
		return -ENOMEM;
	c->skel = vfio_collector__open_opts(&opts);
	if (!c->skel) {
		err = -errno;
		goto fail;
	}
	attach_select(c->skel->obj, mode);
	c->skel->rodata->targ_task_btf = task_btf;
	if (mode == ATTACH_FENTRY)
		c->skel->rodata->targ_dma_entry_limit = attach_intree_dma_entry_limit();
	err = intree_ids_prepare(&c->ids, c->skel->obj, ids, tool);
	if (err)
		goto fail;
	INTREE_IDS_SET_RODATA(c->skel, &c->ids);
	err = vfio_collector__load(c->skel);
	if (err)
		goto fail;
	take_fds(c);
	err = settings_map(c);
	if (err)
		goto fail;
	SET(c, mode, mode);
	SET(c, version, COLL_VERSION);
	/* Before attaching: nothing else writes the id maps yet. */
	err = intree_ids_carry(&c->ids, tool);
	if (err)
		goto fail;
	if (attach) {
		err = vfio_collector__attach(c->skel);
		if (err)
			goto fail;
	}
	c->mode = mode;
	*out = c;
	return 0;
fail:
	collector_free(c);
	return err;
}

int collector_load_ids(struct collector **out, enum vfio_attach_mode mode, bool attach,
		       enum intree_ids_use ids, const char *tool)
{
	return load_ids_btf(out, mode, attach, ids, tool, NULL, attach_kernel_has_btf());
}

int collector_load_no_task_btf(struct collector **out, enum vfio_attach_mode mode)
{
	return load_ids_btf(out, mode, false, INTREE_IDS_FRESH, NULL, NULL, false);
}

int collector_load_mode(struct collector **out, enum vfio_attach_mode mode, bool attach)
{
	return collector_load_ids(out, mode, attach, INTREE_IDS_FRESH, NULL);
}

/*
 * Exporters load and pin one at a time in fentry mode: two started at
 * the same instant would otherwise both find no live collector, both
 * take the persisted id maps over and both attach, adding every
 * operation twice to the shared levels until the second is refused at
 * collector_pin().  The lock is the state directory's (a bpffs directory
 * takes flock() like any file), held from before the check for a live
 * collector until collector_pin() is done.  Without bpffs there are no
 * pins to share, and no lock: -1.
 */
static int pin_lock(void)
{
	int fd;

	if (mkdir(INTREE_STATE_DIR, 0700) && errno != EEXIST)
		return -1;
	fd = open(INTREE_STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) && errno == EINTR)
		;
	return fd;
}

static void pin_unlock(struct collector *c)
{
	if (c->pin_lock_fd >= 0)
		close(c->pin_lock_fd);
	c->pin_lock_fd = -1;
}

/*
 * In fentry mode the collector to pin takes the persisted in-tree ids
 * over, a private one starts from a copy of them (intree_ids.h).  One to
 * pin while another collector lives would be refused at collector_pin():
 * it must not take over the maps that one's programs write, so it copies.
 */
static int load_for(struct collector **out, const struct common_env *env, const char *tool,
		    bool to_pin)
{
	enum intree_ids_use ids = INTREE_IDS_FRESH;
	struct collector *live;
	struct vfio_collector *probe;
	int mode, err, lock_fd = -1;

	/* Only to run common_choose_attach() (its message, its -v) on an object. */
	probe = vfio_collector__open();
	if (!probe) {
		fprintf(stderr, "%s: failed to open the BPF skeleton: %s\n", tool, strerror(errno));
		return -errno;
	}
	mode = common_choose_attach(probe->obj, env, tool);
	vfio_collector__destroy(probe);
	if (mode < 0)
		return mode;
	err = common_check_core_btf(env, tool);
	if (err)
		return err;
	if (mode == ATTACH_FENTRY) {
		ids = INTREE_IDS_COPY;
		if (to_pin)
			lock_fd = pin_lock();
		if (to_pin && collector_open_shared(&live))
			ids = INTREE_IDS_SHARE;
		else if (to_pin)
			collector_free(live);
	}
	err = load_ids_btf(out, mode, true, ids, tool, env->btf, attach_kernel_has_btf());
	if (err) {
		fprintf(stderr, "%s: failed to load and attach the BPF programs: %s\n",
			tool, strerror(-err));
		if (lock_fd >= 0)
			close(lock_fd);
		return err;
	}
	(*out)->pin_lock_fd = lock_fd;
	return 0;
}

int collector_load(struct collector **out, const struct common_env *env, const char *tool)
{
	return load_for(out, env, tool, false);
}

int collector_load_pinnable(struct collector **out, const struct common_env *env,
			    const char *tool)
{
	return load_for(out, env, tool, true);
}

/* Pinned programs are named PROG_PREFIX<name> (bpffs refuses dots in names). */
#define PROG_PREFIX "prog_"

/* Everything in the pin directory: maps, programs, and older layouts' leftovers. */
static void unpin_all(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(COLLECTOR_PIN_DIR);

	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && !pin_path(path, sizeof(path), de->d_name))
				unlink(path);
		closedir(d);
	}
	rmdir(COLLECTOR_PIN_DIR);
}

static int pin_programs(struct collector *c)
{
	struct bpf_program *prog;
	char path[PATH_MAX], name[128];

	bpf_object__for_each_program(prog, c->skel->obj) {
		if (bpf_program__fd(prog) < 0)
			continue;	/* another attach mode's */
		snprintf(name, sizeof(name), PROG_PREFIX "%s", bpf_program__name(prog));
		if (pin_path(path, sizeof(path), name) || bpf_obj_pin(bpf_program__fd(prog), path))
			return -errno;
	}
	return 0;
}

int collector_skipped_runs(struct collector *c, __u64 *n)
{
	char path[PATH_MAX];
	struct dirent *de;
	int fd, err = 0;
	DIR *d;

	if (c->skel)
		return skipped_runs(c->skel->obj, n);
	*n = 0;
	/* Opened for the reading only: a reader holds no program. */
	d = opendir(COLLECTOR_PIN_DIR);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		if (strncmp(de->d_name, PROG_PREFIX, strlen(PROG_PREFIX)) ||
		    pin_path(path, sizeof(path), de->d_name))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;	/* unpinned meanwhile: the collector stops */
		err = prog_add_skipped_runs(fd, n);
		close(fd);
	}
	closedir(d);
	return err;
}

static int pin_locked(struct collector *c, pid_t *owner)
{
	struct collector *other;
	char path[PATH_MAX];
	uint64_t start;
	size_t i;
	int err;

	if (!collector_open_shared(&other)) {
		if (owner)
			*owner = other->owner;
		collector_free(other);
		return -EBUSY;
	}
	unpin_all();		/* stale: their owner is gone */
	if (mkdir(COLLECTOR_PIN_DIR, 0700) && errno != EEXIST)
		return -errno;
	for (i = 0; i < NR_PINNED; i++) {
		err = pin_path(path, sizeof(path), pinned_maps[i]);
		if (!err && bpf_obj_pin(*map_fd_slot(c, i), path))
			err = -errno;
		if (err)
			goto fail;
	}
	err = pin_programs(c);
	if (!err)
		err = intree_ids_pin(&c->ids);
	if (err)
		goto fail;
	c->pinned = true;
	/* The owner last: a reader finds every map before it believes the pins. */
	err = own_start_ns(&start);
	if (err)
		goto fail;
	SET(c, owner_start, start);
	SET(c, owner_pid, getpid());
	return 0;
fail:
	unpin_all();
	c->pinned = false;
	return err;
}

int collector_pin(struct collector *c, pid_t *owner)
{
	int err;

	if (!c->skel)
		return -EINVAL;
	err = pin_locked(c, owner);
	pin_unlock(c);
	return err;
}

bool collector_alive(struct collector *c)
{
	struct coll_config cfg;

	if (!c->shared)
		return true;
	settings_read(c, &cfg);
	return settings_live(&cfg);
}

void collector_free(struct collector *c)
{
	size_t i;

	if (!c)
		return;
	if (c->pinned) {
		/* The owner first: from now on readers take the pins as stale. */
		SET(c, owner_pid, 0);
		unpin_all();
	}
	pin_unlock(c);
	intree_ids_release(&c->ids);
	if (c->cfg)
		munmap(c->cfg, sizeof(*c->cfg));
	if (c->skel) {
		vfio_collector__destroy(c->skel);
	} else {
		for (i = 0; i < NR_PINNED; i++)
			if (*map_fd_slot(c, i) >= 0)
				close(*map_fd_slot(c, i));
	}
	free(c);
}

/* ---- reading ---------------------------------------------------------------- */

/*
 * One id from its life (shared) and its per-CPU DMA slots.  The CPUs'
 * parts of the live container are those of its generation; the levels
 * are those of the highest seq among them.  A container opened under the
 * id between the two reads makes us read again.
 */
static int read_id(struct collector *c, __u32 id, const struct coll_life *first,
		   struct coll_dma *pcpu, struct coll_container *out)
{
	struct coll_life l = *first, again;
	const struct dma_level *best;
	int tries, cpu, op;

	for (tries = 0; tries < 3; tries++) {
		if (bpf_map_lookup_elem(c->dma_fd, &id, pcpu))
			return -errno;
		if (bpf_map_lookup_elem(c->life_fd, &id, &again))
			return -errno;
		if (again.gen == l.gen)
			break;
		l = again;
	}
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->gen = l.gen & ~GEN_RELEASED;
	out->live = l.gen && !(l.gen & GEN_RELEASED);
	out->released_ns = out->live ? 0 : l.released_ns;
	out->ext_users = out->live ? l.ext_users : 0;
	out->iommu_errors = l.iommu_errors;
	out->missing = l.missing;
	best = NULL;
	for (cpu = 0; cpu < c->ncpus; cpu++) {
		const struct coll_dma *d = &pcpu[cpu];

		for (op = 0; op < EXP_NR_OPS; op++) {
			out->ops[op] += d->ops[op];
			out->bytes[op] += d->bytes[op];
			out->failed[op] += d->failed[op];
		}
		if (d->gen != out->gen)
			continue;
		for (op = 0; op < EXP_NR_OPS; op++) {
			out->gen_ops[op] += d->gen_ops[op];
			out->gen_bytes[op] += d->gen_bytes[op];
			out->gen_failed[op] += d->gen_failed[op];
		}
		out->mapped += d->mapped;
		if (d->level.seq && (!best || d->level.seq > best->seq))
			best = &d->level;
	}
	if (!out->live) {
		/* Released: nothing is mapped, pinned or held any more. */
		out->mapped = 0;
		out->missing = 0;
		return 0;
	}
	if (best) {
		out->pinned = best->pinned;
		out->entries = best->entries;
		out->missing |= best->missing & DMA_MISSING_PINNED;
	}
	return 0;
}

int collector_read_container(struct collector *c, __u32 id, struct coll_container *out)
{
	struct coll_dma *pcpu;
	struct coll_life l;
	int err;

	if (id >= COLL_MAX_CONTAINERS)
		return -ERANGE;
	if (bpf_map_lookup_elem(c->life_fd, &id, &l))
		return -errno;
	pcpu = calloc(c->ncpus, sizeof(*pcpu));
	if (!pcpu)
		return -ENOMEM;
	err = read_id(c, id, &l, pcpu, out);
	free(pcpu);
	return err;
}

int collector_read_containers(struct collector *c, struct coll_container **rows, size_t *nr)
{
	struct coll_life *lives;
	struct coll_container *out;
	struct coll_dma *pcpu;
	__u32 *keys, batch = 0;
	__u32 count = COLL_MAX_CONTAINERS, id;
	size_t n = 0;
	int err = 0;

	lives = calloc(COLL_MAX_CONTAINERS, sizeof(*lives));
	keys = calloc(COLL_MAX_CONTAINERS, sizeof(*keys));
	out = calloc(COLL_MAX_CONTAINERS, sizeof(*out));
	pcpu = calloc(c->ncpus, sizeof(*pcpu));
	if (!lives || !keys || !out || !pcpu) {
		err = -ENOMEM;
		goto done;
	}
	/* One call for the whole shared array; an ARRAY's batch ends with ENOENT. */
	if (bpf_map_lookup_batch(c->life_fd, NULL, &batch, keys, lives, &count, NULL) &&
	    errno != ENOENT) {
		err = -errno;
		goto done;
	}
	for (id = 0; id < count; id++) {
		if (!lives[id].gen)
			continue;
		err = read_id(c, keys[id], &lives[id], pcpu, &out[n]);
		if (err)
			goto done;
		n++;
	}
	*rows = out;
	*nr = n;
	out = NULL;
done:
	free(lives);
	free(keys);
	free(out);
	free(pcpu);
	return err;
}

/* A hash's keys, room for n rows and one per-CPU value; frees all on failure. */
static int rows_prepare(struct collector *c, int fd, size_t key_size, void **keys, size_t *n,
			size_t row_size, void **rows, size_t value_size, void **pcpu)
{
	int err = map_keys(fd, key_size, COLL_MAX_PROCESSES * 4, keys, n);

	if (err)
		return err;
	*rows = calloc(*n + 1, row_size);
	*pcpu = calloc(c->ncpus, value_size);
	if (*rows && *pcpu)
		return 0;
	free(*keys);
	free(*rows);
	free(*pcpu);
	return -ENOMEM;
}

int collector_read_errors(struct collector *c, struct coll_error **rows, size_t *nr)
{
	struct coll_err_key *keys;
	struct coll_error *out;
	__u64 *pcpu;
	size_t n, i, m = 0;
	int err, cpu;

	err = rows_prepare(c, c->errors_fd, sizeof(*keys), (void **)&keys, &n,
			   sizeof(*out), (void **)&out, sizeof(*pcpu), (void **)&pcpu);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		size_t j;

		/* Errors are never deleted: a repeat is a restarted walk. */
		for (j = 0; j < m; j++)
			if (!memcmp(&out[j].key, &keys[i], sizeof(keys[i])))
				break;
		if (j < m || bpf_map_lookup_elem(c->errors_fd, &keys[i], pcpu))
			continue;
		out[m].key = keys[i];
		for (cpu = 0; cpu < c->ncpus; cpu++)
			out[m].count += pcpu[cpu];
		m++;
	}
	free(keys);
	free(pcpu);
	*rows = out;
	*nr = m;
	return 0;
}

int collector_read_groups(struct collector *c, struct coll_group_row **rows, size_t *nr)
{
	struct coll_group_row *out;
	__u32 *keys;
	size_t n, i, m = 0;
	int err;

	err = map_keys(c->groups_fd, sizeof(*keys), COLL_MAX_GROUPS * 4, (void **)&keys, &n);
	if (err)
		return err;
	out = calloc(n + 1, sizeof(*out));
	if (!out) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		out[m].id = keys[i];
		if (!bpf_map_lookup_elem(c->groups_fd, &keys[i], &out[m].v))
			m++;
	}
	free(keys);
	*rows = out;
	*nr = m;
	return 0;
}

int collector_read_processes(struct collector *c, struct coll_process_row **rows, size_t *nr)
{
	struct coll_process_row *out;
	struct coll_proc_key *keys;
	struct coll_proc *pcpu;
	size_t n, i, m = 0;
	int err, cpu, op;

	err = rows_prepare(c, c->processes_fd, sizeof(*keys), (void **)&keys, &n,
			   sizeof(*out), (void **)&out, sizeof(*pcpu), (void **)&pcpu);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct coll_proc *v = &out[m].v;
		__u64 newest = 0;

		if (bpf_map_lookup_elem(c->processes_fd, &keys[i], pcpu))
			continue;
		out[m].key = keys[i];
		for (cpu = 0; cpu < c->ncpus; cpu++) {
			const struct coll_proc *p = &pcpu[cpu];

			for (op = 0; op < EXP_NR_OPS; op++) {
				v->ops[op] += p->ops[op];
				v->bytes[op] += p->bytes[op];
			}
			v->errors += p->errors;
			v->mapped += p->mapped;
			v->pinned += p->pinned;
			v->missing |= p->missing;
			if (!v->comm[0] && p->comm[0])
				memcpy(v->comm, p->comm, sizeof(v->comm));
			if (p->last_ns > newest) {
				newest = p->last_ns;
				v->last_ns = p->last_ns;
				v->container = p->container;
			}
		}
		m++;
	}
	free(keys);
	free(pcpu);
	*rows = out;
	*nr = m;
	return 0;
}

static void processes_clear(struct collector *c)
{
	struct coll_proc_key *keys;
	size_t n, i;

	if (map_keys(c->processes_fd, sizeof(*keys), COLL_MAX_PROCESSES * 4, (void **)&keys, &n))
		return;
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(c->processes_fd, &keys[i]);
	free(keys);
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	/* A task's start_boottime's clock. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int collector_want_processes(struct collector *c, uint64_t keep_ns)
{
	uint64_t now = monotonic_ns(), until = GET(c, process_rows_until);
	bool asked = until == UINT64_MAX || until > now;

	if (keep_ns == UINT64_MAX) {
		if (until != UINT64_MAX)
			SET(c, process_rows_since, boottime_ns());
		SET(c, process_rows_until, UINT64_MAX);
		return 0;
	}
	if (!keep_ns)
		return 0;	/* the others' asks run out by themselves */
	if (!asked) {
		processes_clear(c);
		SET(c, process_rows_since, boottime_ns());
	}
	/* Only ever pushed forward: another reader may ask for longer. */
	if (!asked || until < now + keep_ns)
		SET(c, process_rows_until, now + keep_ns);
	return 0;
}

int collector_want_refs(struct collector *c, bool on)
{
	SET(c, ref_events, on);
	return 0;
}

/* Our start, as process_is() and the collector's owner fields take it. */
static int own_start_ns(uint64_t *ns)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ticks;
	int err = process_start_ticks(getpid(), &ticks);

	if (err)
		return err;
	if (hz <= 0)
		return -EINVAL;
	*ns = ticks * (1000000000ULL / hz);
	return 0;
}

/*
 * The pid is taken with a compare-and-swap, so two front ends starting at
 * once cannot both think they hold it; start and until follow.
 */
int collector_claim_over(struct collector *c, enum coll_claim_kind kind, uint64_t keep_ns,
			 bool *unreleased)
{
	struct coll_claim *cl = &c->cfg->claims[kind];
	uint64_t now = monotonic_ns(), start;
	__u32 me = getpid(), cur;
	int err;

	if (unreleased)
		*unreleased = false;
	err = own_start_ns(&start);
	if (err)
		return err;
	cur = __atomic_load_n(&cl->pid, __ATOMIC_ACQUIRE);
	if (cur != me || __atomic_load_n(&cl->start, __ATOMIC_ACQUIRE) != start) {
		if (cur && __atomic_load_n(&cl->until, __ATOMIC_ACQUIRE) > now &&
		    process_is(cur, __atomic_load_n(&cl->start, __ATOMIC_ACQUIRE)))
			return -EBUSY;
		if (!__atomic_compare_exchange_n(&cl->pid, &cur, me, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return -EBUSY;	/* another took it meanwhile */
		__atomic_store_n(&cl->start, start, __ATOMIC_RELEASE);
		if (unreleased)
			*unreleased = cur != 0;
	}
	__atomic_store_n(&cl->until, keep_ns == UINT64_MAX ? UINT64_MAX : now + keep_ns,
			 __ATOMIC_RELEASE);
	return 0;
}

int collector_claim(struct collector *c, enum coll_claim_kind kind, uint64_t keep_ns)
{
	return collector_claim_over(c, kind, keep_ns, NULL);
}

void collector_release(struct collector *c, enum coll_claim_kind kind)
{
	struct coll_claim *cl = &c->cfg->claims[kind];
	__u32 me = getpid();

	if (__atomic_load_n(&cl->pid, __ATOMIC_ACQUIRE) != me)
		return;
	__atomic_store_n(&cl->until, 0, __ATOMIC_RELEASE);
	__atomic_compare_exchange_n(&cl->pid, &me, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
