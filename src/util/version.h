/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steer's version: one string for every program of a release (steerd
 * and steerctl print it with -V; steerd's admin 'version' answers it), so
 * `steerctl --version` can show whether the client and the daemon match.
 * Header only: steerctl links nothing of the steer library.
 */
#ifndef STEER_VERSION_H
#define STEER_VERSION_H

#define STEER_VERSION "0.1.0"

#endif /* STEER_VERSION_H */
