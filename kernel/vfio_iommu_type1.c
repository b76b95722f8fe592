// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_iommu_type1.ko: the Type1 IOMMU backend of vfioscope's vfio.ko.
 *
 * A container's groups share one IOMMU domain where their IOMMUs allow it:
 * the first group's attach allocates it, later groups join it.  A group
 * that cannot join any of the container's domains (another IOMMU driver,
 * or one that cannot enforce cache coherency as the domain does) gets a
 * domain of its own, into which every mapping is replayed, as in 6.1;
 * maps and unmaps then go to every domain.  User memory given to MAP_DMA is
 * pinned (FOLL_LONGTERM), charged to the mapping process's locked_vm, and
 * mapped run by run: a run is a physically contiguous stretch of pages,
 * handed whole to iommu_map(), which picks the largest IOMMU page sizes the
 * run's alignment allows.  Each mapping remembers its runs, so unmapping
 * never has to ask the IOMMU what it mapped, and its mm (mmgrab), so
 * teardown from another context (a killed process's exit, a delayed fput)
 * uncharges the right locked_vm.
 *
 * The in-tree 6.1 driver is the behavioural reference for every errno.
 * Deliberate differences: no VFIO_UPDATE_VADDR (MAP_FLAG_VADDR and
 * UNMAP_FLAG_VADDR are EINVAL), no dirty-page tracking (no migration
 * capability, VFIO_IOMMU_DIRTY_PAGES is ENOTTY), no nesting.
 */
#include <linux/debugfs.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <vfioscope/compat.h>
#include <vfioscope/fault.h>
#include <vfioscope/vfio.h>
#include <vfioscope/version.h>

#include "vfio_dma_op.h"

#define DRIVER_DESC "vfioscope Type1 IOMMU backend"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Allow groups whose IOMMU cannot remap or isolate MSIs: a device could then raise arbitrary interrupts (N).");

static unsigned int dma_entry_limit __read_mostly = U16_MAX;
module_param(dma_entry_limit, uint, 0644);
MODULE_PARM_DESC(dma_entry_limit,
		 "Maximum number of user DMA mappings per container (65535).");

/*
 * What every container of this module holds, for
 * /sys/kernel/debug/vfio/type1 (leak checks after fault injection).
 */
static atomic_long_t vfio_type1_nr_iommus;
static atomic_long_t vfio_type1_nr_mappings;
static atomic_long_t vfio_type1_nr_pinned;

/* A usable IOVA range, inclusive. */
struct vfio_iova {
	struct list_head next;
	dma_addr_t start;
	dma_addr_t end;
};

/* One IOMMU domain of a container, mapping all of the container's DMA. */
struct vfio_domain {
	struct list_head next;		/* in vfio_iommu.domain_list */
	struct iommu_domain *domain;
	unsigned int nr_groups;		/* attached to it */
	bool enforce_cache_coherency;
};

struct vfio_iommu_group {
	struct list_head next;		/* in vfio_iommu.group_list */
	struct iommu_group *iommu_group;
	struct vfio_domain *d;		/* the domain it is attached to */
};

/* A physically contiguous run of a mapping. */
struct vfio_run {
	dma_addr_t iova;
	unsigned long pfn;
	unsigned long npages;
	bool pinned;			/* false: VM_PFNMAP, nothing to unpin */
};

struct vfio_run_chunk {
	struct list_head next;		/* in vfio_dma.runs */
	unsigned int nr;
	unsigned int cap;		/* room in runs[] */
	struct vfio_run runs[];
};

#define VFIO_RUNS_PER_CHUNK \
	((PAGE_SIZE - sizeof(struct vfio_run_chunk)) / sizeof(struct vfio_run))
/*
 * Most mappings are one run (a small buffer, a huge page): their first
 * chunk is small, so a MAP_DMA does not allocate a whole page for it.
 */
#define VFIO_RUNS_FIRST_CHUNK	4

/* One MAP_DMA. */
struct vfio_dma {
	struct rb_node node;		/* in vfio_iommu.dma_tree, by iova */
	dma_addr_t iova;
	unsigned long vaddr;
	size_t size;
	int prot;			/* IOMMU_READ | IOMMU_WRITE */
	struct mm_struct *mm;		/* mmgrab()ed; charged for locked */
	unsigned long locked;		/* pages charged to mm->locked_vm */
	unsigned long pinned;		/* pages pinned (locked + reserved) */
	struct list_head runs;		/* struct vfio_run_chunk */
};

/* A container's Type1 context. */
struct vfio_iommu {
	struct mutex lock;		/* protects everything below */
	u32 container_id;		/* for tracing */
	bool v2;
	struct list_head domain_list;	/* struct vfio_domain, first one first */
	bool enforce_cache_coherency;	/* by every domain */
	unsigned long pgsize_bitmap;	/* sizes every domain maps */
	struct list_head group_list;	/* struct vfio_iommu_group */
	struct list_head iova_list;	/* struct vfio_iova, sorted */
	struct rb_root dma_tree;	/* struct vfio_dma */
	unsigned int dma_limit;		/* dma_entry_limit when created */
	unsigned int dma_avail;		/* mappings left under the limit */
	unsigned long pinned;		/* pages pinned by all mappings */
	u64 dma_seq;			/* operations so far: vfio_dma_op.seq */
};

/* ---- IOVA ranges --------------------------------------------------------- */

static void vfio_iova_list_free(struct list_head *list)
{
	struct vfio_iova *r, *tmp;

	list_for_each_entry_safe(r, tmp, list, next) {
		list_del(&r->next);
		kfree(r);
	}
}

static int vfio_iova_list_add(struct list_head *pos, dma_addr_t start,
			      dma_addr_t end)
{
	struct vfio_iova *r = kmalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return -ENOMEM;
	r->start = start;
	r->end = end;
	list_add_tail(&r->next, pos);
	return 0;
}

/* Take [start, end] out of a sorted list of ranges. */
static int vfio_iova_list_exclude(struct list_head *list, dma_addr_t start,
				  dma_addr_t end)
{
	struct vfio_iova *r, *tmp;
	int ret;

	list_for_each_entry_safe(r, tmp, list, next) {
		if (end < r->start || start > r->end)
			continue;
		if (start > r->start && end < r->end) {
			/* Split: the upper part goes right after r. */
			ret = vfio_iova_list_add(r->next.next, end + 1, r->end);
			if (ret)
				return ret;
			r->end = start - 1;
		} else if (start > r->start) {
			r->end = start - 1;
		} else if (end < r->end) {
			r->start = end + 1;
		} else {
			list_del(&r->next);
			kfree(r);
		}
	}
	return 0;
}

static int vfio_iova_list_exclude_group(struct list_head *list,
					struct iommu_group *iommu_group)
{
	struct iommu_resv_region *resv, *tmp;
	LIST_HEAD(resv_regions);
	int ret;

	ret = iommu_get_group_resv_regions(iommu_group, &resv_regions);
	if (ret)
		goto out_free;

	list_for_each_entry(resv, &resv_regions, list) {
		/* Relaxable RMRRs may be mapped over, as in-tree. */
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE || !resv->length)
			continue;
		ret = vfio_iova_list_exclude(list, resv->start,
					     resv->start + resv->length - 1);
		if (ret)
			break;
	}
out_free:
	list_for_each_entry_safe(resv, tmp, &resv_regions, list)
		kfree(resv);
	return ret;
}

/* Narrow [*start, *end] to what @domain can translate. */
static void vfio_iova_clip_aperture(const struct iommu_domain *domain,
				    dma_addr_t *start, dma_addr_t *end)
{
	*start = max(*start, domain->geometry.aperture_start);
	*end = min(*end, domain->geometry.aperture_end);
}

/*
 * The usable IOVA ranges of @iommu: what all its domains translate, minus
 * the reserved regions of all its groups; plus, when not NULL,
 * @extra_domain and @extra (a domain and a group about to be added).
 * -EINVAL when the domains' apertures do not overlap: nothing could map.
 */
static int vfio_iommu_iova_list_build(struct vfio_iommu *iommu,
				      struct iommu_domain *extra_domain,
				      struct iommu_group *extra,
				      struct list_head *list)
{
	dma_addr_t start = 0, end = DMA_BIT_MASK(64);
	struct vfio_iommu_group *vg;
	struct vfio_domain *d;
	int ret;

	list_for_each_entry(d, &iommu->domain_list, next)
		vfio_iova_clip_aperture(d->domain, &start, &end);
	if (extra_domain)
		vfio_iova_clip_aperture(extra_domain, &start, &end);
	if (start > end)
		return -EINVAL;
	ret = vfio_iova_list_add(list, start, end);
	if (ret)
		return ret;

	list_for_each_entry(vg, &iommu->group_list, next) {
		ret = vfio_iova_list_exclude_group(list, vg->iommu_group);
		if (ret)
			goto err_free;
	}
	if (extra) {
		ret = vfio_iova_list_exclude_group(list, extra);
		if (ret)
			goto err_free;
	}
	return 0;

err_free:
	vfio_iova_list_free(list);
	return ret;
}

static bool vfio_iova_list_contains(struct list_head *list, dma_addr_t start,
				    dma_addr_t end)
{
	struct vfio_iova *r;

	list_for_each_entry(r, list, next) {
		if (start >= r->start && end <= r->end)
			return true;
	}
	return false;
}

/* ---- the mapping tree ---------------------------------------------------- */

/* The lowest mapping overlapping [start, start + size), or NULL. */
static struct vfio_dma *vfio_dma_find_first(struct vfio_iommu *iommu,
					    dma_addr_t start, u64 size)
{
	struct rb_node *node = iommu->dma_tree.rb_node;
	struct vfio_dma *found = NULL;
	dma_addr_t last = start + size - 1;

	while (node) {
		struct vfio_dma *dma = rb_entry(node, struct vfio_dma, node);

		if (dma->iova + dma->size - 1 < start) {
			node = node->rb_right;
		} else {
			if (dma->iova <= last)
				found = dma;	/* overlaps; look for a lower one */
			node = node->rb_left;
		}
	}
	return found;
}

static void vfio_dma_link(struct vfio_iommu *iommu, struct vfio_dma *new)
{
	struct rb_node **link = &iommu->dma_tree.rb_node, *parent = NULL;

	while (*link) {
		struct vfio_dma *dma = rb_entry(*link, struct vfio_dma, node);

		parent = *link;
		if (new->iova < dma->iova)
			link = &(*link)->rb_left;
		else
			link = &(*link)->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &iommu->dma_tree);
}

/* ---- pinning and mapping ------------------------------------------------- */

/*
 * The slot the next run of @dma goes to, with a chunk allocated for it
 * if needed; the run counts once vfio_dma_map_run() fills it in.
 * Allocating before iommu_map() means a failed allocation never has a
 * fresh mapping to take down again (see docs/reliability.md, findings).
 */
static struct vfio_run *vfio_dma_next_run(struct vfio_dma *dma)
{
	struct vfio_run_chunk *chunk = NULL;

	if (!list_empty(&dma->runs))
		chunk = list_last_entry(&dma->runs, struct vfio_run_chunk, next);
	if (!chunk || chunk->nr == chunk->cap) {
		unsigned int cap = chunk ? VFIO_RUNS_PER_CHUNK : VFIO_RUNS_FIRST_CHUNK;

		chunk = vfio_fault(VFIO_FAULT_ALLOC) ? NULL :
			kmalloc(struct_size(chunk, runs, cap), GFP_KERNEL_ACCOUNT);
		if (!chunk)
			return NULL;
		chunk->nr = 0;
		chunk->cap = cap;
		list_add_tail(&chunk->next, &dma->runs);
	}
	return &chunk->runs[chunk->nr];
}

/* Map one run in one domain. */
static int vfio_domain_map_run(struct iommu_domain *domain, int prot,
			       dma_addr_t iova, unsigned long pfn,
			       unsigned long npages)
{
	if (vfio_fault(VFIO_FAULT_IOMMU_MAP))
		return -ENOMEM;
	/* VFIO devices must be coherent: always IOMMU_CACHE, as in-tree. */
	return vfio_compat_iommu_map(domain, iova, PFN_PHYS(pfn),
				     npages << PAGE_SHIFT, prot | IOMMU_CACHE);
}

/*
 * Map one run in every domain of @iommu, or in none; on success it is
 * recorded in @dma.  (iommu_map() takes back what it mapped of a run when
 * it fails, so only the domains already done are unwound here.)
 */
static int vfio_dma_map_run(struct vfio_iommu *iommu, struct vfio_dma *dma,
			    dma_addr_t iova, unsigned long pfn,
			    unsigned long npages, bool pinned)
{
	struct vfio_run *run = vfio_dma_next_run(dma);
	struct vfio_run_chunk *chunk;
	struct vfio_domain *d;
	int ret;

	if (!run)
		return -ENOMEM;
	list_for_each_entry(d, &iommu->domain_list, next) {
		ret = vfio_domain_map_run(d->domain, dma->prot, iova, pfn, npages);
		if (ret) {
			list_for_each_entry_continue_reverse(d, &iommu->domain_list, next)
				iommu_unmap(d->domain, iova, npages << PAGE_SHIFT);
			return ret;	/* an empty chunk stays: freed with the rest */
		}
	}

	run->iova = iova;
	run->pfn = pfn;
	run->npages = npages;
	run->pinned = pinned;
	chunk = list_last_entry(&dma->runs, struct vfio_run_chunk, next);
	chunk->nr++;
	if (pinned) {
		dma->pinned += npages;
		iommu->pinned += npages;
		atomic_long_add(npages, &vfio_type1_nr_pinned);
	}
	return 0;
}

/*
 * What a VM_PFNMAP area may hand to the IOMMU: device memory, or pages a
 * driver marked reserved.  Ordinary RAM remapped into user space belongs
 * to whoever remapped it and may be freed while the IOMMU still points at
 * it; it is refused, as in 6.1 (is_invalid_reserved_pfn()).
 */
static bool vfio_pfn_unpinnable(unsigned long pfn)
{
	return !pfn_valid(pfn) || PageReserved(pfn_to_page(pfn));
}

/*
 * The pfn behind @vaddr in a VM_PFNMAP @vma, faulted in if need be.  A
 * write mapping needs a writable pte, not only VM_WRITE: a private
 * (copy on write) remap keeps its ptes read-only.  Caller holds mmap_lock.
 */
static int vfio_pfnmap_pfn(struct vm_area_struct *vma, unsigned long vaddr,
			   bool write, bool fault, unsigned long *pfn)
{
	bool writable;
	int ret;

	ret = vfio_compat_follow_pfnmap(vma, vaddr, pfn, &writable);
	if (ret && fault) {
		/* Without "unlocked" the lock stays held, so @vma stays valid. */
		ret = fixup_user_fault(vma->vm_mm, vaddr, FAULT_FLAG_REMOTE |
				       (write ? FAULT_FLAG_WRITE : 0), NULL);
		if (ret)
			return ret;
		ret = vfio_compat_follow_pfnmap(vma, vaddr, pfn, &writable);
	}
	if (ret)
		return ret;
	return write && !writable ? -EFAULT : 0;
}

/*
 * A VM_PFNMAP area (a device BAR mmap()ed by user space, for peer to
 * peer): there are no struct pages to pin, follow the page tables.
 * Returns how many physically contiguous pfns from @vaddr (at most
 * @npages) and the first in *pfn, or -errno.  Caller holds mmap_lock.
 */
static long vfio_follow_pfnmap(struct mm_struct *mm, unsigned long vaddr,
			       unsigned long npages, int prot,
			       unsigned long *pfn)
{
	struct vm_area_struct *vma = vma_lookup(mm, vaddr);
	bool write = prot & IOMMU_WRITE;
	unsigned long i, next;
	int ret;

	if (!vma || !(vma->vm_flags & VM_PFNMAP))
		return -EFAULT;
	if (write && !(vma->vm_flags & VM_WRITE))
		return -EFAULT;

	ret = vfio_pfnmap_pfn(vma, vaddr, write, true, pfn);
	if (ret)
		return ret;
	if (!vfio_pfn_unpinnable(*pfn))
		return -EFAULT;

	/* The run ends where a page is missing: the next call faults it. */
	for (i = 1; i < npages; i++) {
		unsigned long a = vaddr + (i << PAGE_SHIFT);

		if (a >= vma->vm_end ||
		    vfio_pfnmap_pfn(vma, a, write, false, &next) ||
		    next != *pfn + i || !vfio_pfn_unpinnable(next))
			break;
	}
	return i;
}

/* Map the pages[] of one pinned batch at @iova, run by run. */
static int vfio_dma_map_batch(struct vfio_iommu *iommu, struct vfio_dma *dma,
			      dma_addr_t iova, struct page **pages, long n)
{
	long i = 0;
	int ret;

	while (i < n) {
		unsigned long pfn = page_to_pfn(pages[i]);
		bool rsvd = PageReserved(pages[i]);
		long len = 1;

		while (i + len < n && page_to_pfn(pages[i + len]) == pfn + len &&
		       PageReserved(pages[i + len]) == rsvd)
			len++;

		ret = vfio_dma_map_run(iommu, dma, iova + (i << PAGE_SHIFT),
				       pfn, len, true);
		if (ret) {
			/* The unmapped rest of the batch: unpin, uncharge. */
			unsigned long uncharge = 0;
			long j;

			for (j = i; j < n; j++) {
				if (!PageReserved(pages[j]))
					uncharge++;
			}
			unpin_user_pages(pages + i, n - i);
			account_locked_vm(dma->mm, uncharge, false);
			dma->locked -= uncharge;
			return ret;
		}
		i += len;
	}
	return 0;
}

/*
 * Pin and map all of @dma.  On error, what was mapped stays recorded in
 * @dma for vfio_dma_unmap_unpin().
 */
static int vfio_dma_pin_map(struct vfio_iommu *iommu, struct vfio_dma *dma,
			    struct vfio_dma_op *op)
{
	unsigned long batch = PAGE_SIZE / sizeof(struct page *);
	unsigned long total = dma->size >> PAGE_SHIFT, done = 0;
	/* Small maps pin into the stack, not into a page of their own. */
	struct page *small[16];
	unsigned int gup_flags = FOLL_LONGTERM;
	struct mm_struct *mm = dma->mm;
	struct page **pages;
	int ret = 0;

	if (dma->prot & IOMMU_WRITE)
		gup_flags |= FOLL_WRITE;

	if (total <= ARRAY_SIZE(small)) {
		pages = small;
		batch = ARRAY_SIZE(small);
	} else {
		pages = vfio_fault(VFIO_FAULT_ALLOC) ? NULL :
			(struct page **)__get_free_page(GFP_KERNEL);
		if (!pages)
			return -ENOMEM;
	}

	while (done < total) {
		unsigned long vaddr = dma->vaddr + (done << PAGE_SHIFT);
		dma_addr_t iova = dma->iova + (done << PAGE_SHIFT);
		unsigned long want = min(total - done, batch);
		unsigned long charge = 0, pfn;
		long n, i;

		vfio_dma_op_lap(op, NULL);
		/*
		 * Lockless first, when pinning for ourselves: 6.1's
		 * pin_user_pages_remote() walks a THP 4 KiB at a time once it
		 * fills pages[] (batching came in 6.5), pin_user_pages_fast()
		 * takes a whole PMD at once and skips mmap_lock.  Whatever it
		 * cannot pin (VM_PFNMAP, a fault that fails) takes the locked
		 * path, which decides the errno as before.
		 */
		n = mm == current->mm ?
		    pin_user_pages_fast(vaddr, want, gup_flags, pages) : 0;
		if (n > 0)
			goto pinned;
		mmap_read_lock(mm);
		n = vfio_compat_pin_user_pages_remote(mm, vaddr, want,
						      gup_flags, pages, NULL);
		if (n <= 0) {
			n = vfio_follow_pfnmap(mm, vaddr, want, dma->prot, &pfn);
			mmap_read_unlock(mm);
			vfio_dma_op_lap(op, &op->pin_ns);
			if (n <= 0) {
				ret = n ? n : -EFAULT;
				break;
			}
			/* Device memory: nothing pinned, nothing charged. */
			ret = vfio_dma_map_run(iommu, dma, iova, pfn, n, false);
			vfio_dma_op_lap(op, &op->iommu_ns);
			if (ret)
				break;
			done += n;
			cond_resched();
			continue;
		}
		mmap_read_unlock(mm);
pinned:
		if (vfio_fault(VFIO_FAULT_PIN)) {
			/* As if the pin had failed for lack of memory. */
			unpin_user_pages(pages, n);
			ret = -ENOMEM;
			break;
		}
		/* Reserved pages (the zero page) cost no locked memory. */
		for (i = 0; i < n; i++) {
			if (!PageReserved(pages[i]))
				charge++;
		}
		/* -ENOMEM over RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
		ret = account_locked_vm(mm, charge, true);
		vfio_dma_op_lap(op, &op->pin_ns);
		if (ret) {
			unpin_user_pages(pages, n);
			break;
		}
		dma->locked += charge;

		ret = vfio_dma_map_batch(iommu, dma, iova, pages, n);
		vfio_dma_op_lap(op, &op->iommu_ns);
		if (ret)
			break;
		done += n;
		cond_resched();
	}

	if (pages != small)
		free_page((unsigned long)pages);
	return ret;
}

/* Take every run of @dma out of @domain, with one IOTLB flush. */
static void vfio_domain_unmap_dma(struct iommu_domain *domain,
				  struct vfio_dma *dma)
{
	struct iommu_iotlb_gather gather;
	struct vfio_run_chunk *chunk;
	unsigned int i;

	iommu_iotlb_gather_init(&gather);
	list_for_each_entry(chunk, &dma->runs, next) {
		for (i = 0; i < chunk->nr; i++) {
			struct vfio_run *run = &chunk->runs[i];

			iommu_unmap_fast(domain, run->iova,
					 run->npages << PAGE_SHIFT, &gather);
		}
	}
	iommu_iotlb_sync(domain, &gather);
}

/*
 * Unmap every run from every domain, then unpin and uncharge.  @op, if
 * any, is charged with the pages and the time.
 */
static void vfio_dma_unmap_unpin(struct vfio_iommu *iommu, struct vfio_dma *dma,
				 struct vfio_dma_op *op)
{
	struct vfio_run_chunk *chunk, *tmp;
	struct vfio_domain *d;
	unsigned int i;

	vfio_dma_op_lap(op, NULL);
	/* No device may reach a page once it is unpinned: flushed first. */
	list_for_each_entry(d, &iommu->domain_list, next)
		vfio_domain_unmap_dma(d->domain, dma);
	vfio_dma_op_lap(op, op ? &op->iommu_ns : NULL);
	if (op)
		op->npages += dma->pinned;

	list_for_each_entry_safe(chunk, tmp, &dma->runs, next) {
		for (i = 0; i < chunk->nr; i++) {
			struct vfio_run *run = &chunk->runs[i];

			if (run->pinned)
				unpin_user_page_range_dirty_lock(pfn_to_page(run->pfn),
								 run->npages,
								 dma->prot & IOMMU_WRITE);
		}
		list_del(&chunk->next);
		kfree(chunk);
		cond_resched();
	}

	account_locked_vm(dma->mm, dma->locked, false);
	dma->locked = 0;
	iommu->pinned -= dma->pinned;
	atomic_long_sub(dma->pinned, &vfio_type1_nr_pinned);
	dma->pinned = 0;
	vfio_dma_op_lap(op, op ? &op->pin_ns : NULL);
}

static void vfio_dma_remove(struct vfio_iommu *iommu, struct vfio_dma *dma,
			    struct vfio_dma_op *op)
{
	lockdep_assert_held(&iommu->lock);

	vfio_dma_unmap_unpin(iommu, dma, op);
	rb_erase(&dma->node, &iommu->dma_tree);
	/* Pairs with mmgrab() in vfio_iommu_ioctl_map_dma(). */
	mmdrop(dma->mm);
	kfree(dma);
	iommu->dma_avail++;
	atomic_long_dec(&vfio_type1_nr_mappings);
}

/* ---- ioctls -------------------------------------------------------------- */

/*
 * The container as @op left it, taken before iommu->lock is dropped: the
 * event is emitted after, by vfio_dma_op_trace().
 */
static void vfio_dma_op_snapshot(struct vfio_iommu *iommu,
				 struct vfio_dma_op *op)
{
	lockdep_assert_held(&iommu->lock);

	op->seq = ++iommu->dma_seq;
	op->pinned = iommu->pinned;
	op->entries = iommu->dma_limit - iommu->dma_avail;
}

static int __vfio_iommu_map_dma(struct vfio_iommu *iommu,
				const struct vfio_iommu_type1_dma_map *map,
				struct vfio_dma_op *op)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_dma *dma;
	u64 pgsize;
	int prot = 0;
	int ret;

	lockdep_assert_held(&iommu->lock);

	if (map->argsz < minsz ||
	    map->flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	if (map->flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map->flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	if (!prot)
		return -EINVAL;

	pgsize = 1ULL << __ffs(iommu->pgsize_bitmap);
	if (!map->size || (map->size | map->iova | map->vaddr) & (pgsize - 1))
		return -EINVAL;
	/* Wrapping IOVA or vaddr: in-tree 6.1 says EINVAL too. */
	if (map->iova + map->size - 1 < map->iova ||
	    map->vaddr + map->size - 1 < map->vaddr)
		return -EINVAL;
	if (vfio_dma_find_first(iommu, map->iova, map->size))
		return -EEXIST;
	if (!iommu->dma_avail)
		return -ENOSPC;
	if (!vfio_iova_list_contains(&iommu->iova_list, map->iova,
				     map->iova + map->size - 1))
		return -EINVAL;

	dma = vfio_fault(VFIO_FAULT_ALLOC) ? NULL :
	      kzalloc(sizeof(*dma), GFP_KERNEL_ACCOUNT);
	if (!dma)
		return -ENOMEM;
	dma->iova = map->iova;
	dma->vaddr = map->vaddr;
	dma->size = map->size;
	dma->prot = prot;
	INIT_LIST_HEAD(&dma->runs);
	/* Pairs with mmdrop() in vfio_dma_remove(). */
	dma->mm = current->mm;
	mmgrab(dma->mm);

	iommu->dma_avail--;
	atomic_long_inc(&vfio_type1_nr_mappings);
	vfio_dma_link(iommu, dma);

	ret = vfio_dma_pin_map(iommu, dma, op);
	if (ret) {
		/* Undoing a failed map is part of it, not an unmap of its own. */
		vfio_dma_remove(iommu, dma, NULL);
		return ret;
	}
	op->npages = dma->pinned;
	return 0;
}

static int vfio_iommu_ioctl_map_dma(struct vfio_iommu *iommu,
				    unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map = {};
	struct vfio_dma_op op = {};
	int ret = 0;

	vfio_dma_op_start(&op, trace_vfio_dma_map_enabled());
	if (copy_from_user(&map, (void __user *)arg, minsz))
		ret = -EFAULT;

	mutex_lock(&iommu->lock);
	if (!ret)
		ret = __vfio_iommu_map_dma(iommu, &map, &op);
	vfio_dma_op_snapshot(iommu, &op);
	mutex_unlock(&iommu->lock);
	vfio_dma_op_trace(iommu->container_id, true, map.iova, map.size,
			     map.flags, ret, &op);
	return ret;
}

/* Returns the bytes unmapped, or -errno; @op gets pages and time. */
static s64 vfio_iommu_do_unmap(struct vfio_iommu *iommu, u64 iova, u64 size,
			       bool all, struct vfio_dma_op *op)
{
	struct vfio_dma *dma;
	u64 pgsize, unmapped = 0;

	lockdep_assert_held(&iommu->lock);

	pgsize = 1ULL << __ffs(iommu->pgsize_bitmap);
	if (iova & (pgsize - 1))
		return -EINVAL;
	if (all) {
		if (iova || size)
			return -EINVAL;
		size = U64_MAX;
	} else if (!size || size & (pgsize - 1) || iova + size - 1 < iova) {
		return -EINVAL;
	}

	/* v2: a request may not split a mapping at either end. */
	if (iommu->v2 && !all) {
		dma = vfio_dma_find_first(iommu, iova, 1);
		if (dma && dma->iova != iova)
			return -EINVAL;
		dma = vfio_dma_find_first(iommu, iova + size - 1, 1);
		if (dma && dma->iova + dma->size != iova + size)
			return -EINVAL;
	}

	dma = vfio_dma_find_first(iommu, iova, size);
	while (dma && dma->iova <= iova + size - 1) {
		struct rb_node *next = rb_next(&dma->node);

		/* v1 stops at a mapping that starts below the request. */
		if (!iommu->v2 && iova > dma->iova)
			break;
		unmapped += dma->size;
		vfio_dma_remove(iommu, dma, op);
		dma = next ? rb_entry(next, struct vfio_dma, node) : NULL;
	}
	return unmapped;
}

static int vfio_iommu_ioctl_unmap_dma(struct vfio_iommu *iommu,
				      unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct vfio_iommu_type1_dma_unmap unmap = {};
	struct vfio_dma_op op = {};
	s64 ret = 0;

	vfio_dma_op_start(&op, trace_vfio_dma_unmap_enabled());
	if (copy_from_user(&unmap, (void __user *)arg, minsz))
		ret = -EFAULT;
	else if (unmap.argsz < minsz || unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		ret = -EINVAL;

	mutex_lock(&iommu->lock);
	if (!ret)
		ret = vfio_iommu_do_unmap(iommu, unmap.iova, unmap.size,
					  unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL,
					  &op);
	vfio_dma_op_snapshot(iommu, &op);
	mutex_unlock(&iommu->lock);
	vfio_dma_op_trace(iommu->container_id, false, unmap.iova,
			     ret < 0 ? 0 : ret, unmap.flags, ret < 0 ? ret : 0,
			     &op);
	if (ret < 0)
		return ret;

	unmap.size = ret;
	if (copy_to_user((void __user *)arg, &unmap, minsz))
		return -EFAULT;
	return 0;
}

/* A growing buffer of capabilities, chained by offsets from the info start. */
struct vfio_caps {
	void *buf;
	size_t size;
	size_t last;		/* offset of the last header, if size */
};

static void *vfio_caps_add(struct vfio_caps *caps, size_t size, u16 id,
			   u16 version, size_t base)
{
	struct vfio_info_cap_header *header;
	size_t off = ALIGN(caps->size, sizeof(u64));
	void *buf;

	buf = vfio_fault(VFIO_FAULT_ALLOC) ? NULL :
	      krealloc(caps->buf, off + size, GFP_KERNEL);
	if (!buf)
		return NULL;
	memset(buf + caps->size, 0, off + size - caps->size);
	if (caps->size) {
		header = buf + caps->last;
		header->next = base + off;
	}

	header = buf + off;
	header->id = id;
	header->version = version;
	header->next = 0;
	caps->buf = buf;
	caps->last = off;
	caps->size = off + size;
	return header;
}

static int vfio_iommu_build_caps(struct vfio_iommu *iommu, struct vfio_caps *caps)
{
	const size_t base = sizeof(struct vfio_iommu_type1_info);
	struct vfio_iommu_type1_info_cap_iova_range *range;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iova *r;
	unsigned int nr = 0, i = 0;

	lockdep_assert_held(&iommu->lock);

	avail = vfio_caps_add(caps, sizeof(*avail),
			      VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1, base);
	if (!avail)
		return -ENOMEM;
	avail->avail = iommu->dma_avail;

	list_for_each_entry(r, &iommu->iova_list, next)
		nr++;
	range = vfio_caps_add(caps, struct_size(range, iova_ranges, nr),
			      VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1, base);
	if (!range)
		return -ENOMEM;
	range->nr_iovas = nr;
	list_for_each_entry(r, &iommu->iova_list, next) {
		range->iova_ranges[i].start = r->start;
		range->iova_ranges[i].end = r->end;
		i++;
	}
	return 0;
}

static int vfio_iommu_ioctl_get_info(struct vfio_iommu *iommu,
				     unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_info,
					  iova_pgsizes);
	struct vfio_iommu_type1_info info;
	struct vfio_caps caps = {};
	int ret;

	/* The padding too: 6.12 copies it back (compat.h). */
	memset(&info, 0, sizeof(info));
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* cap_offset only for user space that knows it; how much else, by series. */
	minsz = vfio_compat_info_copy_size(info.argsz, minsz,
			offsetofend(struct vfio_iommu_type1_info, cap_offset),
			sizeof(info));

	mutex_lock(&iommu->lock);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = iommu->pgsize_bitmap;
	info.cap_offset = 0;
	ret = vfio_iommu_build_caps(iommu, &caps);
	mutex_unlock(&iommu->lock);
	if (ret)
		goto out_free;

	if (caps.size) {
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			/* Too small: say how much is needed. */
			info.argsz = sizeof(info) + caps.size;
		} else {
			if (copy_to_user((void __user *)arg + sizeof(info),
					 caps.buf, caps.size)) {
				ret = -EFAULT;
				goto out_free;
			}
			info.cap_offset = sizeof(info);
		}
	}

	if (copy_to_user((void __user *)arg, &info, minsz))
		ret = -EFAULT;
out_free:
	kfree(caps.buf);
	return ret;
}

static long vfio_iommu_type1_ioctl(void *iommu_data, unsigned int cmd,
				   unsigned long arg)
{
	struct vfio_iommu *iommu = iommu_data;

	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return vfio_iommu_ioctl_get_info(iommu, arg);
	case VFIO_IOMMU_MAP_DMA:
		return vfio_iommu_ioctl_map_dma(iommu, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return vfio_iommu_ioctl_unmap_dma(iommu, arg);
	default:
		return -ENOTTY;
	}
}

static int vfio_iommu_type1_check_extension(void *iommu_data,
					    unsigned long arg)
{
	struct vfio_iommu *iommu = iommu_data;

	switch (arg) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		return iommu ? READ_ONCE(iommu->enforce_cache_coherency) : 0;
	default:
		return 0;
	}
}

/* ---- groups -------------------------------------------------------------- */

/*
 * A device's MSI is a DMA write: without interrupt remapping (or an MSI
 * controller that isolates devices) the user could forge any interrupt
 * vector of the host.  As in 6.1: refused unless the admin says otherwise.
 */
static int vfio_iommu_check_msi_isolation(struct iommu_group *iommu_group)
{
	if (vfio_compat_group_has_isolated_msi(iommu_group) ||
	    allow_unsafe_interrupts)
		return 0;
	pr_warn("%s: No interrupt remapping support.  Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform\n",
		__func__);
	return -EPERM;
}

static int vfio_iommu_group_first_dev(struct device *dev, void *data)
{
	struct device **first = data;

	*first = dev;
	return 1;
}

static struct vfio_iommu_group *
__vfio_iommu_find_group(struct vfio_iommu *iommu, struct iommu_group *iommu_group)
{
	struct vfio_iommu_group *vg;

	lockdep_assert_held(&iommu->lock);

	list_for_each_entry(vg, &iommu->group_list, next) {
		if (vg->iommu_group == iommu_group)
			return vg;
	}
	return NULL;
}

/*
 * What the container's domains have in common, after one came or went:
 * the page sizes all of them map, and whether all enforce cache coherency.
 */
static void vfio_iommu_domains_changed(struct vfio_iommu *iommu)
{
	unsigned long pgsizes = ULONG_MAX;
	bool coherent = true;
	struct vfio_domain *d;

	list_for_each_entry(d, &iommu->domain_list, next) {
		pgsizes &= d->domain->pgsize_bitmap;
		coherent &= d->enforce_cache_coherency;
	}
	/* Sizes below PAGE_SIZE are useless: we pin whole pages. */
	if (pgsizes & ~PAGE_MASK) {
		pgsizes &= PAGE_MASK;
		pgsizes |= PAGE_SIZE;
	}
	iommu->pgsize_bitmap = pgsizes;
	WRITE_ONCE(iommu->enforce_cache_coherency, coherent);
}

/* A new domain, with @iommu_group attached to it. */
static struct vfio_domain *vfio_domain_create(struct iommu_group *iommu_group)
{
	const struct iommu_domain_ops *ops;
	struct device *dev = NULL;
	struct vfio_domain *d;
	int ret;

	/* Any device of the group will do: they share one IOMMU. */
	iommu_group_for_each_dev(iommu_group, &dev, vfio_iommu_group_first_dev);
	if (!dev)
		return ERR_PTR(-ENODEV);

	d = vfio_fault(VFIO_FAULT_ALLOC) ? NULL : kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	d->domain = vfio_compat_paging_domain_alloc(dev);
	if (IS_ERR(d->domain)) {
		ret = PTR_ERR(d->domain);
		goto err_free;
	}
	ret = iommu_attach_group(d->domain, iommu_group);
	if (ret)
		goto err_free_domain;

	/* Must be asked before anything is mapped. */
	ops = d->domain->ops;
	d->enforce_cache_coherency = ops->enforce_cache_coherency &&
				     ops->enforce_cache_coherency(d->domain);
	return d;

err_free_domain:
	iommu_domain_free(d->domain);
err_free:
	kfree(d);
	return ERR_PTR(ret);
}

/* Only once no group is attached to it. */
static void vfio_domain_destroy(struct vfio_domain *d)
{
	iommu_domain_free(d->domain);
	kfree(d);
}

/*
 * Move @iommu_group from its new domain @new into an existing domain of
 * @iommu that maps the same way (the same IOMMU driver, the same cache
 * coherency), as 6.1 does.  *joined is that domain, or NULL if none took
 * the group, which is then in @new again; -errno if it could not go back.
 */
static int vfio_domain_join(struct vfio_iommu *iommu, struct vfio_domain *new,
			    struct iommu_group *iommu_group,
			    struct vfio_domain **joined)
{
	struct vfio_domain *d;
	int ret;

	*joined = NULL;
	list_for_each_entry(d, &iommu->domain_list, next) {
		if (d->domain->ops != new->domain->ops ||
		    d->enforce_cache_coherency != new->enforce_cache_coherency)
			continue;
		/*
		 * The bench has one IOMMU, so every group can join: the fault
		 * point plays an IOMMU that refuses, to test what follows.
		 */
		if (vfio_fault(VFIO_FAULT_DOMAIN_JOIN))
			continue;
		iommu_detach_group(new->domain, iommu_group);
		if (!iommu_attach_group(d->domain, iommu_group)) {
			*joined = d;
			return 0;
		}
		ret = iommu_attach_group(new->domain, iommu_group);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Map every run of @dma into @domain, or none.  The runs cover the
 * mapping from its start in IOVA order, so what was done is one range.
 */
static int vfio_domain_map_dma(struct iommu_domain *domain, struct vfio_dma *dma)
{
	struct vfio_run_chunk *chunk;
	unsigned int i;
	int ret;

	list_for_each_entry(chunk, &dma->runs, next) {
		for (i = 0; i < chunk->nr; i++) {
			struct vfio_run *run = &chunk->runs[i];

			ret = vfio_domain_map_run(domain, dma->prot, run->iova,
						  run->pfn, run->npages);
			if (ret) {
				if (run->iova > dma->iova)
					iommu_unmap(domain, dma->iova,
						    run->iova - dma->iova);
				return ret;
			}
		}
	}
	return 0;
}

/* Every mapping of @iommu into its new domain @d, all or none. */
static int vfio_domain_replay(struct vfio_iommu *iommu, struct vfio_domain *d)
{
	struct rb_node *node, *done;
	int ret;

	for (node = rb_first(&iommu->dma_tree); node; node = rb_next(node)) {
		ret = vfio_domain_map_dma(d->domain,
					  rb_entry(node, struct vfio_dma, node));
		if (ret)
			goto err_unwind;
		cond_resched();
	}
	return 0;

err_unwind:
	for (done = rb_first(&iommu->dma_tree); done != node; done = rb_next(done))
		vfio_domain_unmap_dma(d->domain,
				      rb_entry(done, struct vfio_dma, node));
	return ret;
}

static int vfio_iommu_type1_attach_group(void *iommu_data,
					 struct iommu_group *iommu_group)
{
	struct vfio_iommu *iommu = iommu_data;
	struct vfio_domain *new, *d;
	struct vfio_iommu_group *vg;
	LIST_HEAD(iova_list);
	struct rb_node *node;
	int ret;

	mutex_lock(&iommu->lock);
	if (__vfio_iommu_find_group(iommu, iommu_group)) {
		ret = -EINVAL;
		goto out_unlock;
	}

	ret = vfio_iommu_check_msi_isolation(iommu_group);
	if (ret)
		goto out_unlock;

	vg = vfio_fault(VFIO_FAULT_ALLOC) ? NULL : kzalloc(sizeof(*vg), GFP_KERNEL);
	if (!vg) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	vg->iommu_group = iommu_group;

	new = vfio_domain_create(iommu_group);
	if (IS_ERR(new)) {
		ret = PTR_ERR(new);
		goto err_free_vg;
	}

	/* The domain's aperture and the group's reserved regions must miss every mapping. */
	ret = vfio_iommu_iova_list_build(iommu, new->domain, iommu_group, &iova_list);
	if (ret)
		goto err_detach;
	for (node = rb_first(&iommu->dma_tree); node; node = rb_next(node)) {
		struct vfio_dma *dma = rb_entry(node, struct vfio_dma, node);

		if (!vfio_iova_list_contains(&iova_list, dma->iova,
					     dma->iova + dma->size - 1)) {
			ret = -EINVAL;
			goto err_free_list;
		}
	}

	ret = vfio_domain_join(iommu, new, iommu_group, &d);
	if (ret)
		goto err_destroy;	/* the group is in no domain of ours */
	if (d) {
		vfio_domain_destroy(new);
	} else {
		ret = vfio_domain_replay(iommu, new);
		if (ret)
			goto err_free_list;
		list_add_tail(&new->next, &iommu->domain_list);
		vfio_iommu_domains_changed(iommu);
		d = new;
	}

	d->nr_groups++;
	vg->d = d;
	list_add_tail(&vg->next, &iommu->group_list);
	vfio_iova_list_free(&iommu->iova_list);
	list_splice_init(&iova_list, &iommu->iova_list);
	mutex_unlock(&iommu->lock);
	return 0;

err_free_list:
	vfio_iova_list_free(&iova_list);
err_detach:
	iommu_detach_group(new->domain, iommu_group);
	vfio_domain_destroy(new);
	goto err_free_vg;
err_destroy:
	vfio_iova_list_free(&iova_list);
	vfio_domain_destroy(new);
err_free_vg:
	kfree(vg);
out_unlock:
	mutex_unlock(&iommu->lock);
	return ret;
}

static void vfio_iommu_type1_detach_group(void *iommu_data,
					  struct iommu_group *iommu_group)
{
	struct vfio_iommu *iommu = iommu_data;
	struct vfio_iommu_group *vg;
	struct vfio_domain *d;
	LIST_HEAD(iova_list);

	mutex_lock(&iommu->lock);
	vg = __vfio_iommu_find_group(iommu, iommu_group);
	if (!vg)
		goto out_unlock;

	d = vg->d;
	iommu_detach_group(d->domain, iommu_group);
	list_del(&vg->next);
	kfree(vg);

	/*
	 * A domain left without groups goes (no device reaches it), unless
	 * it is the container's last: release comes next and unmaps
	 * through it.
	 */
	if (!--d->nr_groups && !list_is_singular(&iommu->domain_list)) {
		list_del(&d->next);
		vfio_domain_destroy(d);
		vfio_iommu_domains_changed(iommu);
	}

	/*
	 * Fewer reserved regions now, maybe a wider aperture.  The last
	 * group's detach keeps the old list: release needs nothing from it.
	 */
	if (!list_empty(&iommu->group_list) &&
	    !vfio_iommu_iova_list_build(iommu, NULL, NULL, &iova_list)) {
		vfio_iova_list_free(&iommu->iova_list);
		list_splice_init(&iova_list, &iommu->iova_list);
	}
out_unlock:
	mutex_unlock(&iommu->lock);
}

/* ---- containers ---------------------------------------------------------- */

static void *vfio_iommu_type1_open(unsigned long arg, u32 container_id)
{
	struct vfio_iommu *iommu;
	bool v2;

	switch (arg) {
	case VFIO_TYPE1_IOMMU:
		v2 = false;
		break;
	case VFIO_TYPE1v2_IOMMU:
		v2 = true;
		break;
	default:
		return ERR_PTR(-EINVAL);
	}

	iommu = vfio_fault(VFIO_FAULT_ALLOC) ? NULL :
		kzalloc(sizeof(*iommu), GFP_KERNEL_ACCOUNT);
	if (!iommu)
		return ERR_PTR(-ENOMEM);
	atomic_long_inc(&vfio_type1_nr_iommus);

	mutex_init(&iommu->lock);
	iommu->container_id = container_id;
	iommu->v2 = v2;
	INIT_LIST_HEAD(&iommu->domain_list);
	INIT_LIST_HEAD(&iommu->group_list);
	INIT_LIST_HEAD(&iommu->iova_list);
	iommu->dma_tree = RB_ROOT;
	iommu->dma_limit = dma_entry_limit;
	iommu->dma_avail = iommu->dma_limit;
	return iommu;
}

/*
 * The container is going away, maybe from a killed process's exit: every
 * mapping is unmapped, unpinned and uncharged from the mm that made it.
 */
static void vfio_iommu_type1_release(void *iommu_data)
{
	struct vfio_iommu *iommu = iommu_data;
	struct vfio_iommu_group *vg, *tmp;
	struct vfio_domain *d, *dtmp;
	struct vfio_dma_op op = {};
	struct rb_node *node;
	u64 unmapped = 0;

	mutex_lock(&iommu->lock);
	vfio_dma_op_start(&op, trace_vfio_dma_unmap_enabled());
	while ((node = rb_first(&iommu->dma_tree))) {
		struct vfio_dma *dma = rb_entry(node, struct vfio_dma, node);

		unmapped += dma->size;
		vfio_dma_remove(iommu, dma, &op);
	}
	vfio_dma_op_snapshot(iommu, &op);

	/* vfio.ko detaches every group first; this is only a safety net. */
	list_for_each_entry_safe(vg, tmp, &iommu->group_list, next) {
		iommu_detach_group(vg->d->domain, vg->iommu_group);
		list_del(&vg->next);
		kfree(vg);
	}
	list_for_each_entry_safe(d, dtmp, &iommu->domain_list, next) {
		list_del(&d->next);
		vfio_domain_destroy(d);
	}
	vfio_iova_list_free(&iommu->iova_list);
	mutex_unlock(&iommu->lock);

	if (unmapped)
		vfio_dma_op_trace(iommu->container_id, false, 0, unmapped,
				     VFIO_TRACE_UNMAP_TEARDOWN, 0, &op);
	mutex_destroy(&iommu->lock);
	kfree(iommu);
	atomic_long_dec(&vfio_type1_nr_iommus);
}

static const struct vfio_iommu_driver_ops vfio_iommu_type1_ops = {
	.name = "vfio-iommu-type1",
	.owner = THIS_MODULE,
	.open = vfio_iommu_type1_open,
	.release = vfio_iommu_type1_release,
	.check_extension = vfio_iommu_type1_check_extension,
	.ioctl = vfio_iommu_type1_ioctl,
	.attach_group = vfio_iommu_type1_attach_group,
	.detach_group = vfio_iommu_type1_detach_group,
};

static int vfio_type1_debugfs_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "iommus %ld\nmappings %ld\npinned %ld\n",
		   atomic_long_read(&vfio_type1_nr_iommus),
		   atomic_long_read(&vfio_type1_nr_mappings),
		   atomic_long_read(&vfio_type1_nr_pinned));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfio_type1_debugfs);

static struct dentry *vfio_type1_debugfs_file;

static int __init vfio_iommu_type1_init(void)
{
	int ret = vfio_register_iommu_driver(&vfio_iommu_type1_ops);

	if (!ret && vfio_debugfs_root)
		vfio_type1_debugfs_file = debugfs_create_file("type1", 0400,
							      vfio_debugfs_root, NULL,
							      &vfio_type1_debugfs_fops);
	return ret;
}

static void __exit vfio_iommu_type1_exit(void)
{
	debugfs_remove(vfio_type1_debugfs_file);
	vfio_unregister_iommu_driver(&vfio_iommu_type1_ops);
}

module_init(vfio_iommu_type1_init);
module_exit(vfio_iommu_type1_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VFIOSCOPE_MODULE_VERSION("0.2"));
MODULE_DESCRIPTION(DRIVER_DESC);
