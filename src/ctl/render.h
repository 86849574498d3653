/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerctl's human output: any JSON value drawn as text, so a daemon
 * command steerctl has never heard of still reads well.
 *
 *   - A scalar prints as it is: a string's text ("" as "-"), a number
 *     (an integer exactly, a real to 15 significant digits: what the
 *     daemon wrote reads the same), true, false; null (the daemon's "no
 *     value") prints "-".
 *   - An object prints one "key  value" line per member, the values of
 *     one object aligned in a column. A member holding an object, or an
 *     array that holds objects or arrays, prints its key alone on a line
 *     and its value below, indented by RENDER_INDENT more spaces.
 *   - An array of scalars prints inline, items joined by ','; an empty
 *     array prints "-".
 *   - An array of objects prints as a table: a header row of the union of
 *     their keys in first-seen order (upper case), one row per object,
 *     columns two spaces apart, numeric columns right-aligned, "-" where
 *     a row lacks the key or holds null (which leaves a numeric column
 *     numeric). A cell holding an array of scalars joins them
 *     with ','; an object or a nested array is shown as compact JSON
 *     (render_json()).
 *     Past RENDER_TABLE_MAX_COLS columns, the objects print one after the
 *     other instead.
 *   - At the top only, an object with a single member that is an object
 *     or an array is drawn without that member's key (so "nodes" answers
 *     {"nodes":[...]} with the table alone).
 *
 * Text from the daemon is never written raw to a terminal: bytes below
 * 0x20 and 0x7f print as \xNN.
 */
#ifndef STEER_CTL_RENDER_H
#define STEER_CTL_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#define RENDER_INDENT 2
#define RENDER_TABLE_MAX_COLS 64

/* Leave out object members that are the number 0, and objects (not
 * arrays) left with no member to show: for counters. */
#define RENDER_HIDE_ZERO 0x1u

/*
 * Draw v on f following the rules above, each line ended by '\n'.
 * Returns 0, or -ENOMEM when a table's cells could not be laid out (what
 * was drawn before stays drawn). Write errors are f's: check ferror(f).
 */
int render_value(FILE *f, const json_t *v, unsigned flags);

/* Would render_value() under flags draw anything of v? */
bool render_visible(const json_t *v, unsigned flags);

/* Write s[0..n) with bytes below 0x20 and 0x7f as \xNN. */
void render_text(FILE *f, const char *s, size_t n);

/*
 * v as JSON on f, without a final newline: compact on one line, or
 * indented by four spaces per level ("key": value). jansson writes it:
 * members in order, '"', '\\' and control characters escaped, reals to
 * 15 significant digits. Returns 0 or -EIO (f's error, or a value
 * jansson cannot write).
 */
int render_json(FILE *f, const json_t *v, bool indent);

#endif /* STEER_CTL_RENDER_H */
