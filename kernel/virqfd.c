// SPDX-License-Identifier: GPL-2.0
/*
 * virqfd: a bus driver's functions run when user space (or KVM) signals an
 * eventfd.  vfio-pci uses it for the INTx unmask eventfd (KVM's resampler)
 * and for ioeventfds.  The names and signatures are the in-tree ones
 * (vfio_virqfd.ko on 6.1, vfio.ko from 6.2), so a driver written for them
 * links against ours unchanged.
 *
 * A virqfd waits on the eventfd's wait queue with its own wake-up
 * callback:
 *  - EPOLLIN: the count is consumed, then handler(opaque, data) runs right
 *    there, in atomic context under the eventfd's wait queue lock (and in
 *    hard IRQ context if the eventfd is signalled from an interrupt
 *    handler); when it returns non-zero, or there is no handler,
 *    thread(opaque, data) runs from the system workqueue.
 *  - EPOLLHUP (the eventfd's file is released): the virqfd tears itself
 *    down.
 *
 * Teardown never happens in the wake-up callback, which holds the wait
 * queue lock: it is queued on vfio_virqfd.cleanup_wq, an ordered
 * workqueue.  The owner's pointer (*pvirqfd) says whether a teardown is
 * already queued: it is cleared, under vfio_virqfd.lock, by whoever queues
 * it, so exactly one of vfio_virqfd_disable() and EPOLLHUP does.
 * vfio_virqfd_disable() then waits for the workqueue, so once it returns
 * no handler or thread of that virqfd runs any more and the owner may free
 * what they use, *pvirqfd included.
 *
 * vfio_virqfd_enable() and vfio_virqfd_disable() of one *pvirqfd are
 * serialized by the caller (vfio-pci: igate, ioeventfds_lock).
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vfio.h"

struct virqfd {
	void *opaque;
	void *data;
	int (*handler)(void *opaque, void *data);	/* atomic context */
	void (*thread)(void *opaque, void *data);	/* process context */
	struct eventfd_ctx *eventfd;	/* reference held until shutdown */
	wait_queue_entry_t wait;	/* on the eventfd's wait queue */
	poll_table pt;			/* puts wait there (vfs_poll) */
	struct work_struct inject;	/* runs thread, system_wq */
	struct work_struct shutdown;	/* frees us, cleanup_wq */
	struct work_struct flush_inject; /* waits for inject, cleanup_wq */
	/* The owner's pointer to us; NULL once a shutdown is queued. */
	struct virqfd **pvirqfd;
};

static struct {
	spinlock_t lock;		/* protects every *pvirqfd */
	/*
	 * Ordered: a flush_inject queued while the virqfd is registered
	 * runs before its shutdown, which can only be queued after it.
	 */
	struct workqueue_struct *cleanup_wq;
} vfio_virqfd = {
	.lock = __SPIN_LOCK_UNLOCKED(vfio_virqfd.lock),
};

/* The eventfd fired: the handler now, the thread later if asked. */
static void vfio_virqfd_fire(struct virqfd *virqfd)
{
	if ((!virqfd->handler || virqfd->handler(virqfd->opaque, virqfd->data)) &&
	    virqfd->thread)
		schedule_work(&virqfd->inject);
}

static void vfio_virqfd_inject(struct work_struct *work)
{
	struct virqfd *virqfd = container_of(work, struct virqfd, inject);

	virqfd->thread(virqfd->opaque, virqfd->data);
}

static void vfio_virqfd_flush_inject(struct work_struct *work)
{
	struct virqfd *virqfd = container_of(work, struct virqfd, flush_inject);

	flush_work(&virqfd->inject);
}

static void vfio_virqfd_shutdown(struct work_struct *work)
{
	struct virqfd *virqfd = container_of(work, struct virqfd, shutdown);
	u64 cnt;

	/* Off the wait queue: no wake-up runs the handler after this. */
	eventfd_ctx_remove_wait_queue(virqfd->eventfd, &virqfd->wait, &cnt);
	/* Nor a thread scheduled by one that ran before. */
	flush_work(&virqfd->inject);
	eventfd_ctx_put(virqfd->eventfd);
	kfree(virqfd);
}

/* Caller holds vfio_virqfd.lock and has just cleared *virqfd->pvirqfd. */
static void __vfio_virqfd_deactivate(struct virqfd *virqfd)
{
	lockdep_assert_held(&vfio_virqfd.lock);
	queue_work(vfio_virqfd.cleanup_wq, &virqfd->shutdown);
}

/* Under the eventfd's wait queue lock, interrupts off. */
static int vfio_virqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct virqfd *virqfd = container_of(wait, struct virqfd, wait);
	__poll_t events = key_to_poll(key);
	unsigned long flags;

	if (events & EPOLLIN) {
		u64 cnt;

		eventfd_ctx_do_read(virqfd->eventfd, &cnt);
		vfio_virqfd_fire(virqfd);
	}

	if (events & EPOLLHUP) {
		/*
		 * The eventfd's file is going.  Unless a disable got here
		 * first, queue our own teardown.  The owner is still there to
		 * read *pvirqfd from: its disable would be waiting for our
		 * shutdown, which cannot have run while we are on the queue.
		 */
		spin_lock_irqsave(&vfio_virqfd.lock, flags);
		if (*virqfd->pvirqfd == virqfd) {
			*virqfd->pvirqfd = NULL;
			__vfio_virqfd_deactivate(virqfd);
		}
		spin_unlock_irqrestore(&vfio_virqfd.lock, flags);
	}
	return 0;
}

static void vfio_virqfd_queue_proc(struct file *file, wait_queue_head_t *wqh,
				   poll_table *pt)
{
	struct virqfd *virqfd = container_of(pt, struct virqfd, pt);

	add_wait_queue(wqh, &virqfd->wait);
}

/**
 * vfio_virqfd_enable - run handler and/or thread when eventfd @fd fires
 * @opaque: first argument of both
 * @handler: atomic context; non-zero return schedules @thread; may be NULL
 * @thread: process context; may be NULL
 * @data: second argument of both
 * @pvirqfd: where the virqfd is kept; must be NULL (-EBUSY otherwise)
 * @fd: the eventfd
 *
 * An eventfd already signalled fires at once, its count left as it is.
 * Returns 0, -EBADF (@fd is not open), -EINVAL (not an eventfd), -EBUSY or
 * -ENOMEM.
 */
int vfio_virqfd_enable(void *opaque, int (*handler)(void *, void *),
		       void (*thread)(void *, void *), void *data,
		       struct virqfd **pvirqfd, int fd)
{
	struct eventfd_ctx *eventfd;
	struct virqfd *virqfd;
	struct file *file;
	__poll_t events;
	int ret;

	virqfd = kzalloc(sizeof(*virqfd), GFP_KERNEL_ACCOUNT);
	if (!virqfd)
		return -ENOMEM;
	virqfd->opaque = opaque;
	virqfd->data = data;
	virqfd->handler = handler;
	virqfd->thread = thread;
	virqfd->pvirqfd = pvirqfd;
	INIT_WORK(&virqfd->inject, vfio_virqfd_inject);
	INIT_WORK(&virqfd->shutdown, vfio_virqfd_shutdown);
	INIT_WORK(&virqfd->flush_inject, vfio_virqfd_flush_inject);

	/*
	 * Our own file reference until we are on the wait queue: an
	 * EPOLLHUP cannot come before, when we could not yet be torn down.
	 */
	file = fget(fd);
	if (!file) {
		ret = -EBADF;
		goto err_free;
	}
	eventfd = eventfd_ctx_fileget(file);
	if (IS_ERR(eventfd)) {
		ret = PTR_ERR(eventfd);
		goto err_fput;
	}
	virqfd->eventfd = eventfd;

	spin_lock_irq(&vfio_virqfd.lock);
	if (*pvirqfd) {
		spin_unlock_irq(&vfio_virqfd.lock);
		ret = -EBUSY;
		goto err_put_eventfd;
	}
	*pvirqfd = virqfd;
	spin_unlock_irq(&vfio_virqfd.lock);

	init_waitqueue_func_entry(&virqfd->wait, vfio_virqfd_wakeup);
	init_poll_funcptr(&virqfd->pt, vfio_virqfd_queue_proc);
	events = vfs_poll(file, &virqfd->pt);
	/* Signalled before we listened: do as if we had heard it. */
	if (events & EPOLLIN)
		vfio_virqfd_fire(virqfd);

	fput(file);
	return 0;

err_put_eventfd:
	eventfd_ctx_put(eventfd);
err_fput:
	fput(file);
err_free:
	kfree(virqfd);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_virqfd_enable);

/**
 * vfio_virqfd_disable - tear down the virqfd at *@pvirqfd, if any
 * @pvirqfd: as given to vfio_virqfd_enable(); NULL on return
 *
 * Returns once no handler or thread of it runs any more, also when an
 * EPOLLHUP had already queued its teardown.  Sleeps.
 */
void vfio_virqfd_disable(struct virqfd **pvirqfd)
{
	unsigned long flags;

	spin_lock_irqsave(&vfio_virqfd.lock, flags);
	if (*pvirqfd) {
		__vfio_virqfd_deactivate(*pvirqfd);
		*pvirqfd = NULL;
	}
	spin_unlock_irqrestore(&vfio_virqfd.lock, flags);

	/* Ours, or the one an EPOLLHUP queued: wait for it either way. */
	flush_workqueue(vfio_virqfd.cleanup_wq);
}
EXPORT_SYMBOL_GPL(vfio_virqfd_disable);

/**
 * vfio_virqfd_flush_thread - wait for a thread of *@pvirqfd already scheduled
 * @pvirqfd: as given to vfio_virqfd_enable()
 *
 * For an owner about to free what the thread uses while the virqfd stays
 * (vfio-pci replacing the INTx trigger).  The virqfd may be torn down by
 * an EPOLLHUP meanwhile: the wait is done from cleanup_wq, where its
 * shutdown can only come after.  Sleeps.
 */
void vfio_virqfd_flush_thread(struct virqfd **pvirqfd)
{
	unsigned long flags;

	spin_lock_irqsave(&vfio_virqfd.lock, flags);
	if (*pvirqfd && (*pvirqfd)->thread)
		queue_work(vfio_virqfd.cleanup_wq, &(*pvirqfd)->flush_inject);
	spin_unlock_irqrestore(&vfio_virqfd.lock, flags);

	flush_workqueue(vfio_virqfd.cleanup_wq);
}
EXPORT_SYMBOL_GPL(vfio_virqfd_flush_thread);

int __init vfio_virqfd_init(void)
{
	vfio_virqfd.cleanup_wq = alloc_ordered_workqueue("vfio-irqfd-cleanup", 0);
	return vfio_virqfd.cleanup_wq ? 0 : -ENOMEM;
}

/* Every virqfd is gone: each was disabled by its owner, before unload. */
void vfio_virqfd_exit(void)
{
	destroy_workqueue(vfio_virqfd.cleanup_wq);
}
