// SPDX-License-Identifier: GPL-2.0
/* The in-tree containers' ids across collectors (intree_ids.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bpf/bpf.h>

#include "common.h"
#include "intree_ids.h"
#include "ksyms.h"

/* Our maps, by their names in the object and under INTREE_STATE_DIR. */
#define CONTAINERS_NAME	"intree_containers"
#define IDS_NAME	"intree_ids"

static const char *const fops_names[INTREE_NR_FOPS] = {
	[INTREE_FOPS_CONTAINER] = "vfio_fops",
	[INTREE_FOPS_GROUP] = "vfio_group_fops",
	[INTREE_FOPS_DEVICE] = "vfio_device_fops",
};

static int state_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", INTREE_STATE_DIR, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void state_unpin(void)
{
	char path[PATH_MAX];

	if (!state_path(path, sizeof(path), CONTAINERS_NAME))
		unlink(path);
	if (!state_path(path, sizeof(path), IDS_NAME))
		unlink(path);
}

/* Whether a pinned map was made from the same definition as ours. */
static bool map_matches(int fd, const struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == bpf_map__type(map) &&
	       info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.max_entries == bpf_map__max_entries(map) &&
	       info.map_flags == bpf_map__map_flags(map);
}

static int pinned_get(const char *name, int *fd)
{
	char path[PATH_MAX];
	int err = state_path(path, sizeof(path), name);

	if (err)
		return err;
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

/*
 * The persisted maps into ids: 0, -ENOENT when there are none, -ESTALE
 * when they are not of our layout (or only one is there), else -errno.
 */
static int state_open(struct intree_ids *ids, const struct bpf_map *containers,
		      const struct bpf_map *idmap)
{
	struct intree_id_state st;
	int cfd = -1, ifd = -1, err;
	__u32 zero = 0;

	err = pinned_get(CONTAINERS_NAME, &cfd);
	if (!err)
		err = pinned_get(IDS_NAME, &ifd);
	else if (err == -ENOENT && !pinned_get(IDS_NAME, &ifd))
		err = -ESTALE;		/* the ids without their containers */
	if (err == -ENOENT && cfd >= 0)
		err = -ESTALE;		/* the containers without their ids */
	if (!err && (!map_matches(cfd, containers) || !map_matches(ifd, idmap) ||
		     bpf_map_lookup_elem(ifd, &zero, &st) || st.version != INTREE_STATE_VERSION))
		err = -ESTALE;
	if (err) {
		if (cfd >= 0)
			close(cfd);
		if (ifd >= 0)
			close(ifd);
		return err;
	}
	ids->containers_fd = cfd;
	ids->ids_fd = ifd;
	return 0;
}

/* vfio.ko's fops, all three: a file of a kind we miss would hide its container. */
static int fops_find(struct intree_ids *ids, const char *tool)
{
	int i, err;

	err = ksyms__lookup_file("/proc/kallsyms", "vfio", fops_names, ids->fops,
				 INTREE_NR_FOPS);
	if (!err)
		return 0;
	if (tool) {
		for (i = 0; i < INTREE_NR_FOPS - 1 && ids->fops[i]; i++)
			;
		fprintf(stderr, "%s: cannot find vfio.ko's %s in /proc/kallsyms (%s): "
			"in-tree containers released while no collector ran keep "
			"their ids\n", tool, fops_names[i], strerror(-err));
	}
	memset(ids->fops, 0, sizeof(ids->fops));
	return err;
}

int intree_ids_prepare(struct intree_ids *ids, struct bpf_object *obj,
		       enum intree_ids_use use, const char *tool)
{
	struct bpf_map *containers = bpf_object__find_map_by_name(obj, CONTAINERS_NAME);
	struct bpf_map *idmap = bpf_object__find_map_by_name(obj, IDS_NAME);
	struct bpf_program *iter = bpf_object__find_program_by_name(obj, "intree_live");
	int err;

	memset(ids, 0, sizeof(*ids));
	ids->use = use;
	ids->containers_fd = ids->ids_fd = -1;
	if (!containers || !idmap || !iter)
		return -EINVAL;
	/* After a reuse libbpf renames them as the kernel does (15 characters). */
	ids->containers = containers;
	ids->idmap = idmap;
	ids->iter = iter;
	bpf_program__set_autoload(iter, false);
	if (use == INTREE_IDS_FRESH)
		return 0;
	err = state_open(ids, containers, idmap);
	if (err == -ESTALE && use == INTREE_IDS_SHARE) {
		if (tool)
			fprintf(stderr, "%s: the in-tree container ids under %s are of another "
				"layout: numbering afresh\n", tool, INTREE_STATE_DIR);
		state_unpin();
	} else if (err && err != -ENOENT && err != -ESTALE && tool) {
		fprintf(stderr, "%s: cannot open the in-tree container ids under %s: %s; "
			"numbering afresh\n", tool, INTREE_STATE_DIR, strerror(-err));
	}
	if (err)
		return 0;
	if (use == INTREE_IDS_SHARE) {
		err = bpf_map__reuse_fd(containers, ids->containers_fd);
		if (!err)
			err = bpf_map__reuse_fd(idmap, ids->ids_fd);
		if (err)
			return err;
		ids->reused = true;
	}
	if (!fops_find(ids, tool)) {
		bpf_program__set_autoload(iter, true);
		ids->prune = true;
	}
	return 0;
}

/* The keys the iterator writes out: every live in-tree container's, some twice. */
static int live_keys(struct bpf_program *iter, __u64 **keys, size_t *nr)
{
	struct bpf_link *link = bpf_program__attach_iter(iter, NULL);
	size_t len = 0, cap = 4096;
	char *buf = NULL, *grown;
	int fd, err = 0;
	ssize_t n;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		if (!buf || len == cap) {
			cap = buf ? cap * 2 : cap;
			grown = realloc(buf, cap);
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		len += n;
	}
	close(fd);
out:
	bpf_link__destroy(link);
	if (err) {
		free(buf);
		return err;
	}
	*keys = (__u64 *)buf;
	*nr = len / sizeof(__u64);
	return 0;
}

static bool key_in(__u64 key, const __u64 *set, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (set[i] == key)
			return true;
	return false;
}

int intree_ids_prune(int containers_fd, struct intree_id_state *state,
		     const __u64 *live, size_t nr_live)
{
	struct intree_container v;
	__u64 *keys;
	size_t nr, i;
	int err = map_keys(containers_fd, sizeof(*keys), COLL_MAX_CONTAINERS * 4,
			   (void **)&keys, &nr);

	if (err)
		return err;
	for (i = 0; i < nr && !err; i++) {
		if (bpf_map_lookup_elem(containers_fd, &keys[i], &v))
			continue;
		if (live && !key_in(keys[i], live, nr_live)) {
			/* Released while no collector ran. */
			if (bpf_map_delete_elem(containers_fd, &keys[i]))
				err = -errno;
			else if (v.id && v.id < COLL_MAX_CONTAINERS)
				state->words[v.id / 64] &= ~(1ULL << (v.id % 64));
			continue;
		}
		/* Whatever it did while no collector ran, we did not see. */
		v.partial = 1;
		if (bpf_map_update_elem(containers_fd, &keys[i], &v, BPF_EXIST))
			err = -errno;
	}
	free(keys);
	return err;
}

/* The persisted containers into ours: a snapshot, ours to change. */
static int copy_containers(int from, int to)
{
	struct intree_container v;
	__u64 *keys;
	size_t nr, i;
	int err = map_keys(from, sizeof(*keys), COLL_MAX_CONTAINERS * 4, (void **)&keys, &nr);

	for (i = 0; !err && i < nr; i++)
		if (!bpf_map_lookup_elem(from, &keys[i], &v) &&
		    bpf_map_update_elem(to, &keys[i], &v, BPF_ANY))
			err = -errno;
	free(keys);
	return err;
}

int intree_ids_carry(struct intree_ids *ids, const char *tool)
{
	struct intree_id_state st = { .version = INTREE_STATE_VERSION };
	int cfd = bpf_map__fd(ids->containers), ifd = bpf_map__fd(ids->idmap);
	__u64 *live = NULL;
	size_t nr_live = 0;
	__u32 zero = 0;
	int err = 0;

	if (ids->containers_fd >= 0) {
		/* Reused: the same map as ids->ids_fd. */
		if (bpf_map_lookup_elem(ids->ids_fd, &zero, &st))
			err = -errno;
		if (!err && !ids->reused)
			err = copy_containers(ids->containers_fd, cfd);
		if (!err && ids->prune) {
			err = live_keys(ids->iter, &live, &nr_live);
			if (err && tool)
				fprintf(stderr, "%s: cannot run the in-tree container iterator: %s; "
					"no pruning\n", tool, strerror(-err));
			err = 0;
		}
		if (!err)
			err = intree_ids_prune(cfd, &st, live, live ? nr_live : 0);
		free(live);
	}
	st.version = INTREE_STATE_VERSION;
	if (!err && bpf_map_update_elem(ifd, &zero, &st, BPF_ANY))
		err = -errno;
	intree_ids_release(ids);
	return err;
}

int intree_ids_pin(struct intree_ids *ids)
{
	char path[PATH_MAX];
	struct bpf_map *maps[] = { ids->containers, ids->idmap };
	const char *names[] = { CONTAINERS_NAME, IDS_NAME };
	size_t i;
	int err;

	if (ids->use != INTREE_IDS_SHARE || ids->reused)
		return 0;
	if (mkdir(INTREE_STATE_DIR, 0700) && errno != EEXIST)
		return -errno;
	for (i = 0; i < 2; i++) {
		err = state_path(path, sizeof(path), names[i]);
		if (err)
			return err;
		unlink(path);		/* stale, of another layout */
		if (bpf_obj_pin(bpf_map__fd(maps[i]), path))
			return -errno;
	}
	ids->reused = true;
	return 0;
}

void intree_ids_release(struct intree_ids *ids)
{
	if (!ids->containers)
		return;		/* never prepared */
	if (ids->containers_fd >= 0)
		close(ids->containers_fd);
	if (ids->ids_fd >= 0)
		close(ids->ids_fd);
	ids->containers_fd = ids->ids_fd = -1;
}
