// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci: interrupts, delivered to user space through eventfds.
 *
 *  INTx    one trigger; the handler masks the line (automask) until user
 *          space unmasks it with ACTION_UNMASK, or by signalling the unmask
 *          eventfd it registered (a virqfd: KVM's resampler).  Masking
 *          uses the COMMAND register's INTx disable when the device
 *          supports it (the line can then be shared), disable_irq
 *          otherwise.
 *  MSI,    N vectors allocated at once, each with its eventfd; the count
 *  MSI-X   cannot change while enabled (NORESIZE), except that from 6.5
 *          MSI-X grows where the MSI domain can allocate a vector at a
 *          given table index (dynamic MSI-X, compat.h): wiring a vector
 *          past the ones enabled allocates it there.
 *  ERR     AER error_detected() signals it (PCIe only).
 *  REQ     signalled when the driver is asked to release the device.
 *
 * Only one of INTx, MSI and MSI-X at a time (irq_type), under igate.
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/* The eventfd behind @fd, or the fault point's failure (fault.h). */
struct eventfd_ctx *vfio_pci_eventfd_get(int fd)
{
	if (vfio_fault(VFIO_FAULT_EVENTFD))
		return ERR_PTR(-ENOMEM);
	return eventfd_ctx_fdget(fd);
}

/* ---- INTx ------------------------------------------------------------------ */

static irqreturn_t vfio_pci_intx_handler(int irq, void *dev_id)
{
	struct vfio_pci_device *vpdev = dev_id;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	spin_lock_irqsave(&vpdev->irqlock, flags);
	if (!vpdev->pci_2_3) {
		disable_irq_nosync(vpdev->pdev->irq);
		vpdev->intx_masked = true;
		ret = IRQ_HANDLED;
	} else if (!vpdev->intx_masked &&
		   pci_check_and_mask_intx(vpdev->pdev)) {
		vpdev->intx_masked = true;
		ret = IRQ_HANDLED;
	}
	spin_unlock_irqrestore(&vpdev->irqlock, flags);

	/* ctx[0] cannot change while the handler is installed. */
	if (ret == IRQ_HANDLED)
		vfio_compat_eventfd_signal(vpdev->ctx[0].trigger);
	return ret;
}

/* Mask our INTx; returns whether this masked it.  Caller holds igate. */
static bool __vfio_pci_intx_mask(struct vfio_pci_device *vpdev)
{
	unsigned long flags;
	bool masked = false;

	lockdep_assert_held(&vpdev->igate);

	spin_lock_irqsave(&vpdev->irqlock, flags);
	if (vpdev->intx_active && !vpdev->intx_masked) {
		if (vpdev->pci_2_3)
			pci_intx(vpdev->pdev, 0);
		else if (vpdev->intx_requested)
			disable_irq_nosync(vpdev->pdev->irq);
		vpdev->intx_masked = true;
		masked = true;
	}
	spin_unlock_irqrestore(&vpdev->irqlock, flags);
	return masked;
}

/*
 * Unmask our INTx, unless user space disabled it in COMMAND.  Returns
 * whether the interrupt is still pending: the line then stays masked, and
 * the caller signals the trigger again.  Takes irqlock alone: the unmask
 * eventfd calls it in atomic context, without igate.
 */
static bool vfio_pci_intx_unmask_pending(struct vfio_pci_device *vpdev)
{
	bool pending = false;
	unsigned long flags;

	spin_lock_irqsave(&vpdev->irqlock, flags);
	if (vpdev->intx_active && vpdev->intx_masked && !vpdev->virq_disabled) {
		if (vpdev->pci_2_3)
			pending = !pci_check_and_unmask_intx(vpdev->pdev);
		else if (vpdev->intx_requested)
			enable_irq(vpdev->pdev->irq);
		vpdev->intx_masked = pending;
	}
	spin_unlock_irqrestore(&vpdev->irqlock, flags);
	return pending;
}

/* Unmask, or signal the trigger again if still pending.  Caller holds igate. */
static void __vfio_pci_intx_unmask(struct vfio_pci_device *vpdev)
{
	lockdep_assert_held(&vpdev->igate);

	if (vfio_pci_intx_unmask_pending(vpdev) && vpdev->ctx[0].trigger)
		vfio_compat_eventfd_signal(vpdev->ctx[0].trigger);
}

/*
 * For runtime suspend and resume (vfio_pci_pm.c), which hold no lock of
 * ours: mask INTx, returning whether this did (it was active and not
 * masked yet), so that resume unmasks only what suspend masked.
 */
bool vfio_pci_intx_mask(struct vfio_pci_device *vpdev)
{
	bool masked;

	mutex_lock(&vpdev->igate);
	masked = __vfio_pci_intx_mask(vpdev);
	mutex_unlock(&vpdev->igate);
	return masked;
}

void vfio_pci_intx_unmask(struct vfio_pci_device *vpdev)
{
	mutex_lock(&vpdev->igate);
	__vfio_pci_intx_unmask(vpdev);
	mutex_unlock(&vpdev->igate);
}

/* The unmask eventfd fired (virqfd handler: atomic context). */
static int vfio_pci_intx_unmask_handler(void *opaque, void *unused)
{
	return vfio_pci_intx_unmask_pending(opaque);
}

/*
 * The unmask eventfd found the interrupt still pending (virqfd thread: a
 * workqueue, without igate).  The trigger is read under irqlock, and
 * whoever replaces it waits for this to finish before the old one goes
 * (vfio_pci_intx_set_signal()); ctx stays while the virqfd does, which
 * INTx's disable tears down first.
 */
static void vfio_pci_intx_unmask_thread(void *opaque, void *unused)
{
	struct vfio_pci_device *vpdev = opaque;
	struct eventfd_ctx *trigger = NULL;
	unsigned long flags;

	spin_lock_irqsave(&vpdev->irqlock, flags);
	if (vpdev->intx_active && !vpdev->virq_disabled)
		trigger = READ_ONCE(vpdev->ctx[0].trigger);
	spin_unlock_irqrestore(&vpdev->irqlock, flags);

	if (trigger)
		vfio_compat_eventfd_signal(trigger);
}

void vfio_pci_intx_set_virq_disabled(struct vfio_pci_device *vpdev, bool disabled)
{
	unsigned long flags;
	bool was;

	mutex_lock(&vpdev->igate);
	spin_lock_irqsave(&vpdev->irqlock, flags);
	was = vpdev->virq_disabled;
	vpdev->virq_disabled = disabled;
	spin_unlock_irqrestore(&vpdev->irqlock, flags);

	/*
	 * As in-tree: while INTx is not in use, the device's own INTx
	 * disable bit follows the virtual one.
	 */
	if (disabled != was && vpdev->irq_type != VFIO_PCI_INTX_IRQ_INDEX) {
		if (vpdev->pci_2_3)
			pci_intx(vpdev->pdev, !disabled);
	} else if (disabled && !was) {
		__vfio_pci_intx_mask(vpdev);
	} else if (!disabled && was) {
		__vfio_pci_intx_unmask(vpdev);
	}
	mutex_unlock(&vpdev->igate);
}

static int vfio_pci_intx_enable(struct vfio_pci_device *vpdev)
{
	unsigned long flags;
	bool masked;

	if (vpdev->irq_type != VFIO_PCI_IRQ_NONE)
		return -EINVAL;
	if (!vpdev->pdev->irq || vpdev->pdev->irq == IRQ_NOTCONNECTED)
		return -ENODEV;

	vpdev->ctx = kzalloc(sizeof(*vpdev->ctx), GFP_KERNEL_ACCOUNT);
	if (!vpdev->ctx)
		return -ENOMEM;
	vpdev->num_ctx = 1;

	spin_lock_irqsave(&vpdev->irqlock, flags);
	vpdev->intx_active = true;
	vpdev->intx_masked = masked = vpdev->virq_disabled;
	spin_unlock_irqrestore(&vpdev->irqlock, flags);
	if (vpdev->pci_2_3)
		pci_intx(vpdev->pdev, !masked);

	vpdev->irq_type = VFIO_PCI_INTX_IRQ_INDEX;
	return 0;
}

/* Install (fd >= 0) or remove (fd < 0) the INTx trigger. */
static int vfio_pci_intx_set_signal(struct vfio_pci_device *vpdev, int fd)
{
	struct pci_dev *pdev = vpdev->pdev;
	struct vfio_pci_irq_ctx *ctx = &vpdev->ctx[0];
	struct eventfd_ctx *trigger;
	unsigned long flags, irqflags;
	char *name;
	int ret;

	if (ctx->trigger) {
		free_irq(pdev->irq, vpdev);
		spin_lock_irqsave(&vpdev->irqlock, flags);
		vpdev->intx_requested = false;
		trigger = ctx->trigger;
		WRITE_ONCE(ctx->trigger, NULL);
		spin_unlock_irqrestore(&vpdev->irqlock, flags);
		/* The unmask eventfd's thread may still hold the old one. */
		vfio_virqfd_flush_thread(&vpdev->intx_unmask);
		eventfd_ctx_put(trigger);
		kfree(ctx->name);
		ctx->name = NULL;
	}
	if (fd < 0)
		return 0;

	name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-intx(%s)", pci_name(pdev));
	if (!name)
		return -ENOMEM;
	trigger = vfio_pci_eventfd_get(fd);
	if (IS_ERR(trigger)) {
		ret = PTR_ERR(trigger);
		goto err_free_name;
	}

	/*
	 * Without PCI 2.3 masking the line is ours alone and masked at the
	 * interrupt controller.  When user space has it masked already, it
	 * must come up disabled (IRQF_NO_AUTOEN): enabling it first and
	 * disabling it after request_irq() would let an interrupt pending on
	 * the line through in between, to an eventfd user space asked to keep
	 * quiet (CVE-2024-27437).  intx_masked is stable here: it changes
	 * under igate, which we hold, or in the handler, not installed yet.
	 */
	if (vpdev->pci_2_3)
		irqflags = IRQF_SHARED;
	else
		irqflags = vpdev->intx_masked ? IRQF_NO_AUTOEN : 0;

	/* The handler reads the trigger: set it before installing. */
	WRITE_ONCE(ctx->trigger, trigger);
	ctx->name = name;
	ret = request_irq(pdev->irq, vfio_pci_intx_handler, irqflags, name, vpdev);
	if (ret)
		goto err_put;

	/* Unmask may enable_irq() the line from now on. */
	spin_lock_irqsave(&vpdev->irqlock, flags);
	vpdev->intx_requested = true;
	spin_unlock_irqrestore(&vpdev->irqlock, flags);
	return 0;

err_put:
	WRITE_ONCE(ctx->trigger, NULL);
	ctx->name = NULL;
	vfio_virqfd_flush_thread(&vpdev->intx_unmask);
	eventfd_ctx_put(trigger);
err_free_name:
	kfree(name);
	return ret;
}

static void vfio_pci_intx_disable(struct vfio_pci_device *vpdev)
{
	unsigned long flags;

	/* First: its thread reads ctx[0]. */
	vfio_virqfd_disable(&vpdev->intx_unmask);
	vfio_pci_intx_set_signal(vpdev, -1);
	spin_lock_irqsave(&vpdev->irqlock, flags);
	vpdev->intx_active = false;
	vpdev->intx_masked = false;
	spin_unlock_irqrestore(&vpdev->irqlock, flags);
	if (vpdev->pci_2_3)
		pci_intx(vpdev->pdev, 0);	/* nobody listens any more */
	vpdev->irq_type = VFIO_PCI_IRQ_NONE;
	vpdev->num_ctx = 0;
	kfree(vpdev->ctx);
	vpdev->ctx = NULL;
}

/*
 * ACTION_MASK and ACTION_UNMASK on INTx: the same checks, then @act when
 * asked to (DATA_NONE always, DATA_BOOL when true).  A mask eventfd is
 * ENOTTY, as in-tree; the unmask eventfd is handled by the caller.
 */
static int vfio_pci_set_intx_action(struct vfio_pci_device *vpdev, unsigned int start,
				    unsigned int count, u32 flags, void *data,
				    void (*act)(struct vfio_pci_device *vpdev))
{
	if (vpdev->irq_type != VFIO_PCI_INTX_IRQ_INDEX || start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		act(vpdev);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			act(vpdev);
	} else {
		return -ENOTTY;
	}
	return 0;
}

static void vfio_pci_intx_mask_act(struct vfio_pci_device *vpdev)
{
	__vfio_pci_intx_mask(vpdev);
}

static int vfio_pci_set_intx_mask(struct vfio_pci_device *vpdev, unsigned int start,
				  unsigned int count, u32 flags, void *data)
{
	return vfio_pci_set_intx_action(vpdev, start, count, flags, data,
					vfio_pci_intx_mask_act);
}

/*
 * DATA_EVENTFD: fd >= 0 registers the unmask eventfd (EBUSY when one is
 * registered already), any negative fd unregisters it (none registered is
 * fine), as 6.1 and 6.12 do.  A signal then unmasks as ACTION_UNMASK does.
 */
static int vfio_pci_set_intx_unmask(struct vfio_pci_device *vpdev, unsigned int start,
				    unsigned int count, u32 flags, void *data)
{
	int fd;

	if (!(flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return vfio_pci_set_intx_action(vpdev, start, count, flags, data,
						__vfio_pci_intx_unmask);
	if (vpdev->irq_type != VFIO_PCI_INTX_IRQ_INDEX || start != 0 || count != 1)
		return -EINVAL;

	fd = *(s32 *)data;
	if (fd >= 0)
		return vfio_virqfd_enable(vpdev, vfio_pci_intx_unmask_handler,
					  vfio_pci_intx_unmask_thread, NULL,
					  &vpdev->intx_unmask, fd);
	vfio_virqfd_disable(&vpdev->intx_unmask);
	return 0;
}

static int vfio_pci_set_intx_trigger(struct vfio_pci_device *vpdev, unsigned int start,
				     unsigned int count, u32 flags, void *data)
{
	bool is_intx = vpdev->irq_type == VFIO_PCI_INTX_IRQ_INDEX;
	int ret;

	if (is_intx && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vfio_pci_intx_disable(vpdev);
		return 0;
	}
	if (!(is_intx || vpdev->irq_type == VFIO_PCI_IRQ_NONE) ||
	    start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int fd = *(s32 *)data;

		if (is_intx)
			return vfio_pci_intx_set_signal(vpdev, fd);
		ret = vfio_pci_intx_enable(vpdev);
		if (ret)
			return ret;
		ret = vfio_pci_intx_set_signal(vpdev, fd);
		if (ret)
			vfio_pci_intx_disable(vpdev);
		return ret;
	}

	if (!is_intx)
		return -EINVAL;
	/* Loopback: fire the trigger from here. */
	if (((flags & VFIO_IRQ_SET_DATA_NONE) || *(u8 *)data) && vpdev->ctx[0].trigger)
		vfio_compat_eventfd_signal(vpdev->ctx[0].trigger);
	return 0;
}

/* ---- MSI and MSI-X ---------------------------------------------------------- */

static irqreturn_t vfio_pci_msi_handler(int irq, void *trigger)
{
	vfio_compat_eventfd_signal(trigger);
	return IRQ_HANDLED;
}

static int vfio_pci_msi_enable(struct vfio_pci_device *vpdev, unsigned int nvec,
			       bool msix)
{
	struct pci_dev *pdev = vpdev->pdev;
	int ret;
	u16 cmd;

	if (vpdev->irq_type != VFIO_PCI_IRQ_NONE)
		return -EINVAL;

	vpdev->ctx = kcalloc(nvec, sizeof(*vpdev->ctx), GFP_KERNEL_ACCOUNT);
	if (!vpdev->ctx)
		return -ENOMEM;

	/* Programming the MSI-X table needs memory decode. */
	cmd = vfio_pci_memory_lock_and_enable(vpdev);
	ret = pci_alloc_irq_vectors(pdev, 1, nvec, msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI);
	/*
	 * Fewer vectors than asked for: none are kept, and SET_IRQS returns
	 * how many there are, a positive count, as 6.1's and 6.12's vfio-pci
	 * do.  QEMU takes that count and asks again for as many.
	 */
	if (ret > 0 && ret < nvec)
		pci_free_irq_vectors(pdev);
	vfio_pci_memory_unlock_and_restore(vpdev, cmd);
	if (ret < (int)nvec) {
		kfree(vpdev->ctx);
		vpdev->ctx = NULL;
		return ret;
	}

	vpdev->num_ctx = nvec;
	vpdev->irq_type = msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	/* What the virtual MSI queue size may show: the vectors we have. */
	if (!msix)
		vpdev->msi_qmax = fls(nvec * 2 - 1) - 1;
	return 0;
}

/*
 * Is MSI on through SET_IRQS?  *qmax: log2 of the vectors it last enabled,
 * kept once MSI is off again (and from one open to the next), as in-tree
 * keeps its msi_qmax: the queue size the MSI flags may show.
 */
bool vfio_pci_msi_enabled(struct vfio_pci_device *vpdev, u8 *qmax)
{
	bool on;

	mutex_lock(&vpdev->igate);
	on = vpdev->irq_type == VFIO_PCI_MSI_IRQ_INDEX;
	*qmax = vpdev->msi_qmax;
	mutex_unlock(&vpdev->igate);
	return on;
}

/*
 * The Linux IRQ of a vector about to be wired.  A vector past the ones
 * enabled has none, and is allocated here when MSI-X can grow.  Once
 * allocated it stays so when unwired, for the next wiring, as in-tree:
 * pci_free_irq_vectors() at disable frees it with the others.
 */
static int vfio_pci_msi_vector_irq(struct vfio_pci_device *vpdev,
				   unsigned int vector, bool msix)
{
	struct pci_dev *pdev = vpdev->pdev;
	int irq;
	u16 cmd;

	irq = pci_irq_vector(pdev, vector);
	if (irq >= 0 || !msix || !vpdev->msix_can_grow)
		return irq;

	/* The allocation writes the vector's MSI-X table entry. */
	cmd = vfio_pci_memory_lock_and_enable(vpdev);
	irq = vfio_compat_msix_alloc_at(pdev, vector);
	vfio_pci_memory_unlock_and_restore(vpdev, cmd);
	return irq;
}

/* Make ctx[vector] exist: MSI-X grew past the vectors it was enabled with. */
static int vfio_pci_msi_ctx_grow(struct vfio_pci_device *vpdev, unsigned int vector)
{
	struct vfio_pci_irq_ctx *ctx;

	if (vector < vpdev->num_ctx)
		return 0;
	/* Handlers are given the trigger, not the ctx: the array may move. */
	ctx = krealloc_array(vpdev->ctx, vector + 1, sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	memset(ctx + vpdev->num_ctx, 0, (vector + 1 - vpdev->num_ctx) * sizeof(*ctx));
	vpdev->ctx = ctx;
	vpdev->num_ctx = vector + 1;
	return 0;
}

/* Wire (fd >= 0) or unwire (fd < 0) one vector to an eventfd. */
static int vfio_pci_msi_set_vector_signal(struct vfio_pci_device *vpdev,
					  unsigned int vector, int fd, bool msix)
{
	struct pci_dev *pdev = vpdev->pdev;
	struct vfio_pci_irq_ctx *ctx;
	struct eventfd_ctx *trigger;
	struct msi_msg msg;
	char *name;
	int irq, ret;
	u16 cmd;

	/*
	 * A vector past the ones enabled: 6.1 refuses it; from 6.5 it is
	 * merely one never wired (compat.h), which unwires as a no-op and
	 * wires if it gets an IRQ below.
	 */
	if (vector >= vpdev->num_ctx && !VFIO_COMPAT_SPARSE_MSI_VECTORS)
		return -EINVAL;

	ctx = vector < vpdev->num_ctx ? &vpdev->ctx[vector] : NULL;
	if (ctx && ctx->trigger) {
		irq = pci_irq_vector(pdev, vector);
		cmd = vfio_pci_memory_lock_and_enable(vpdev);
		free_irq(irq, ctx->trigger);
		vfio_pci_memory_unlock_and_restore(vpdev, cmd);
		kfree(ctx->name);
		eventfd_ctx_put(ctx->trigger);
		ctx->name = NULL;
		ctx->trigger = NULL;
	}
	if (fd < 0)
		return 0;

	irq = vfio_pci_msi_vector_irq(vpdev, vector, msix);
	if (irq < 0)
		return irq;
	ret = vfio_pci_msi_ctx_grow(vpdev, vector);
	if (ret)
		return ret;
	ctx = &vpdev->ctx[vector];

	name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-msi%s[%u](%s)",
			 msix ? "x" : "", vector, pci_name(pdev));
	if (!name)
		return -ENOMEM;
	trigger = vfio_pci_eventfd_get(fd);
	if (IS_ERR(trigger)) {
		ret = PTR_ERR(trigger);
		goto err_free_name;
	}

	cmd = vfio_pci_memory_lock_and_enable(vpdev);
	/*
	 * A reset user space did behind our back (FLR through config space,
	 * a device-specific reset) clears the MSI-X table: write it again.
	 */
	if (msix) {
		get_cached_msi_msg(irq, &msg);
		pci_write_msi_msg(irq, &msg);
	}
	ret = request_irq(irq, vfio_pci_msi_handler, 0, name, trigger);
	vfio_pci_memory_unlock_and_restore(vpdev, cmd);
	if (ret)
		goto err_put;

	ctx->name = name;
	ctx->trigger = trigger;
	return 0;

err_put:
	eventfd_ctx_put(trigger);
err_free_name:
	kfree(name);
	return ret;
}

/* All or nothing: on failure the vectors set here are unwired again. */
static int vfio_pci_msi_set_block(struct vfio_pci_device *vpdev, unsigned int start,
				  unsigned int count, s32 *fds, bool msix)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < count; i++) {
		ret = vfio_pci_msi_set_vector_signal(vpdev, start + i,
						     fds ? fds[i] : -1, msix);
		if (ret)
			break;
	}
	if (ret)
		while (i--)
			vfio_pci_msi_set_vector_signal(vpdev, start + i, -1, msix);
	return ret;
}

static void vfio_pci_msi_disable(struct vfio_pci_device *vpdev, bool msix)
{
	u16 cmd;

	vfio_pci_msi_set_block(vpdev, 0, vpdev->num_ctx, NULL, msix);
	cmd = vfio_pci_memory_lock_and_enable(vpdev);
	pci_free_irq_vectors(vpdev->pdev);
	vfio_pci_memory_unlock_and_restore(vpdev, cmd);

	vpdev->irq_type = VFIO_PCI_IRQ_NONE;
	vpdev->num_ctx = 0;
	kfree(vpdev->ctx);
	vpdev->ctx = NULL;
}

static int vfio_pci_set_msi_trigger(struct vfio_pci_device *vpdev, unsigned int index,
				    unsigned int start, unsigned int count,
				    u32 flags, void *data)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	bool is_this = vpdev->irq_type == index;
	unsigned int i, end;
	int ret;

	if (is_this && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vfio_pci_msi_disable(vpdev, msix);
		return 0;
	}
	if (!(is_this || vpdev->irq_type == VFIO_PCI_IRQ_NONE))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (is_this)
			return vfio_pci_msi_set_block(vpdev, start, count, data, msix);
		ret = vfio_pci_msi_enable(vpdev, start + count, msix);
		if (ret)
			return ret;
		ret = vfio_pci_msi_set_block(vpdev, start, count, data, msix);
		if (ret)
			vfio_pci_msi_disable(vpdev, msix);
		return ret;
	}

	if (!is_this)
		return -EINVAL;
	/* Past the vectors enabled: refused on 6.1, never wired from 6.5. */
	end = start + count;
	if (end > vpdev->num_ctx) {
		if (!VFIO_COMPAT_SPARSE_MSI_VECTORS)
			return -EINVAL;
		end = max(start, vpdev->num_ctx);
	}

	/* Loopback: fire the triggers from here. */
	for (i = start; i < end; i++) {
		if (!vpdev->ctx[i].trigger)
			continue;
		if ((flags & VFIO_IRQ_SET_DATA_NONE) || ((u8 *)data)[i - start])
			vfio_compat_eventfd_signal(vpdev->ctx[i].trigger);
	}
	return 0;
}

/* ---- ERR and REQ ----------------------------------------------------------- */

/* One eventfd, set, cleared or fired from user space. */
static int vfio_pci_set_ctx_trigger_single(struct eventfd_ctx **ctx,
					   unsigned int count, u32 flags, void *data)
{
	struct eventfd_ctx *trigger;
	int fd;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!*ctx)
			return -EINVAL;
		if (count) {
			vfio_compat_eventfd_signal(*ctx);
		} else {
			eventfd_ctx_put(*ctx);
			*ctx = NULL;
		}
		return 0;
	}
	if (!count)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data && *ctx)
			vfio_compat_eventfd_signal(*ctx);
		return 0;
	}

	/* DATA_EVENTFD: -1 clears, other negative values are ignored. */
	fd = *(s32 *)data;
	if (fd == -1) {
		if (*ctx)
			eventfd_ctx_put(*ctx);
		*ctx = NULL;
	} else if (fd >= 0) {
		trigger = vfio_pci_eventfd_get(fd);
		if (IS_ERR(trigger))
			return PTR_ERR(trigger);
		if (*ctx)
			eventfd_ctx_put(*ctx);
		*ctx = trigger;
	}
	return 0;
}

void vfio_pci_irqs_signal_err(struct vfio_pci_device *vpdev)
{
	mutex_lock(&vpdev->igate);
	if (vpdev->err_trigger)
		vfio_compat_eventfd_signal(vpdev->err_trigger);
	mutex_unlock(&vpdev->igate);
}

void vfio_pci_irqs_signal_req(struct vfio_pci_device *vpdev, unsigned int count)
{
	struct pci_dev *pdev = vpdev->pdev;

	mutex_lock(&vpdev->igate);
	if (vpdev->req_trigger) {
		if (!(count % 10))
			pci_notice_ratelimited(pdev, "relaying device request to user (#%u)\n",
					       count);
		vfio_compat_eventfd_signal(vpdev->req_trigger);
	} else if (count == 0) {
		pci_warn(pdev, "no device request channel registered, blocked until released by user\n");
	}
	mutex_unlock(&vpdev->igate);
}

/* ---- the ioctls ------------------------------------------------------------- */

static unsigned int vfio_pci_irq_count(struct vfio_pci_device *vpdev,
				       unsigned int index)
{
	struct pci_dev *pdev = vpdev->pdev;
	u16 flags;
	u8 pin;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
		return pin ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (!pdev->msi_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS, &flags);
		return 1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (!pdev->msix_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
		return (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

long vfio_pci_ioctl_get_irq_info(struct vfio_pci_device *vpdev,
				 struct vfio_irq_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !pci_is_pcie(vpdev->pdev))
		return -EINVAL;

	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = vfio_pci_irq_count(vpdev, info.index);
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.index != VFIO_PCI_MSIX_IRQ_INDEX || !vpdev->msix_can_grow)
		info.flags |= VFIO_IRQ_INFO_NORESIZE;	/* MSI-X that grows is not */

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* Caller holds igate.  ENOTTY: an action this index does not have. */
static int __vfio_pci_set_irqs(struct vfio_pci_device *vpdev, u32 flags,
			       unsigned int index, unsigned int start,
			       unsigned int count, void *data)
{
	u32 action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	lockdep_assert_held(&vpdev->igate);

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return vfio_pci_set_intx_mask(vpdev, start, count, flags, data);
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return vfio_pci_set_intx_unmask(vpdev, start, count, flags, data);
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_pci_set_intx_trigger(vpdev, start, count, flags, data);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* Per-vector masking is not exported by the PCI core. */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_pci_set_msi_trigger(vpdev, index, start, count,
							flags, data);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER && pci_is_pcie(vpdev->pdev)) {
			if (start != 0 || count > 1)
				return -EINVAL;
			return vfio_pci_set_ctx_trigger_single(&vpdev->err_trigger,
							       count, flags, data);
		}
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
			if (start != 0 || count > 1)
				return -EINVAL;
			return vfio_pci_set_ctx_trigger_single(&vpdev->req_trigger,
							       count, flags, data);
		}
		break;
	}
	return -ENOTTY;
}

long vfio_pci_ioctl_set_irqs(struct vfio_pci_device *vpdev,
			     struct vfio_irq_set __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	unsigned int max;
	size_t size;
	void *data = NULL;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.index >= VFIO_PCI_NUM_IRQS ||
	    hdr.count >= U32_MAX - hdr.start ||
	    hdr.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;

	max = vfio_pci_irq_count(vpdev, hdr.index);
	if (hdr.start >= max || hdr.start + hdr.count > max)
		return -EINVAL;

	switch (hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(u8);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(s32);
		break;
	default:
		return -EINVAL;	/* none, or more than one */
	}

	if (size) {
		if ((u64)hdr.argsz - minsz < (u64)hdr.count * size)
			return -EINVAL;
		data = memdup_user(&arg->data, hdr.count * size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	mutex_lock(&vpdev->igate);
	ret = __vfio_pci_set_irqs(vpdev, hdr.flags, hdr.index, hdr.start,
				  hdr.count, data);
	mutex_unlock(&vpdev->igate);
	kfree(data);
	return ret;
}

/* At close, and when the process died: nothing may stay wired. */
void vfio_pci_irqs_teardown(struct vfio_pci_device *vpdev)
{
	unsigned long flags;

	mutex_lock(&vpdev->igate);
	switch (vpdev->irq_type) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		vfio_pci_intx_disable(vpdev);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		vfio_pci_msi_disable(vpdev, false);
		break;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		vfio_pci_msi_disable(vpdev, true);
		break;
	}
	if (vpdev->err_trigger) {
		eventfd_ctx_put(vpdev->err_trigger);
		vpdev->err_trigger = NULL;
	}
	if (vpdev->req_trigger) {
		eventfd_ctx_put(vpdev->req_trigger);
		vpdev->req_trigger = NULL;
	}
	spin_lock_irqsave(&vpdev->irqlock, flags);
	vpdev->virq_disabled = false;
	spin_unlock_irqrestore(&vpdev->irqlock, flags);
	mutex_unlock(&vpdev->igate);
}
