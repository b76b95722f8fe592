/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VFIOSCOPE_VERSION_H
#define VFIOSCOPE_VERSION_H

/*
 * Our modules' MODULE_VERSION: the version of the in-tree module each one
 * replaces, then "+vfioscope." and our release (VFIOSCOPE_VERSION, from
 * the top-level VERSION file, passed by Kbuild).  DKMS installs a module
 * over the kernel's own only when its version sorts after the kernel's
 * (dkms's check_version_sanity()), and takes two unversioned modules for
 * the same one: "0.3+vfioscope.0.1.0" sorts after the "0.3" of 6.1's and
 * 6.12's vfio.ko.  modinfo then also tells an operator whose module runs.
 */
#define VFIOSCOPE_MODULE_VERSION(intree) intree "+vfioscope." VFIOSCOPE_VERSION

#endif
