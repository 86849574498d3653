// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture I/O: frames written come back byte for byte with their
 * nanosecond timestamps; the file header is the documented one; a real
 * pcap (Katran's decap fixtures) reads with the lengths its index lists;
 * pcapng reads too; missing, garbage, truncated and non-Ethernet files and
 * a full disk give errors, not crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "fastpath/pcapio.h"

#define N_FRAMES 64
#define MAX_FRAME 9000

struct fx {
	char dir[64];
	char path[128];
	uint8_t frames[N_FRAMES][MAX_FRAME];
	uint32_t lens[N_FRAMES];
	uint64_t ts[N_FRAMES];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/steer-pcapio-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/t.pcap", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Deterministic frames of varied lengths and sub-microsecond times. */
static void make_frames(struct fx *f)
{
	uint32_t x = 0x12345678;
	int i, j;

	for (i = 0; i < N_FRAMES; i++) {
		f->lens[i] = i == 0 ? 1 : i == 1 ? MAX_FRAME : 14 + 37 * i;
		for (j = 0; j < (int)f->lens[i]; j++) {
			x = x * 1103515245u + 12345u;
			f->frames[i][j] = (uint8_t)(x >> 16);
		}
		f->ts[i] = 1700000000ull * 1000000000ull + 123456789ull +
			   (uint64_t)i * 1000000007ull;
	}
}

static void write_frames(struct fx *f, int n)
{
	struct pcap_out *out = pcapio_open_write(f->path);
	int i;

	assert_non_null(out);
	for (i = 0; i < n; i++)
		assert_int_equal(
			pcapio_write(out, f->frames[i], f->lens[i], f->ts[i]),
			0);
	assert_int_equal(pcapio_close_write(out), 0);
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	const uint8_t *data;
	uint32_t cap, wire;
	uint64_t ts;
	struct pcap_in *in;
	int i;

	make_frames(f);
	write_frames(f, N_FRAMES);
	in = pcapio_open_read(f->path);
	assert_non_null(in);
	for (i = 0; i < N_FRAMES; i++) {
		assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 1);
		assert_int_equal(cap, f->lens[i]);
		assert_int_equal(wire, f->lens[i]);
		assert_memory_equal(data, f->frames[i], f->lens[i]);
		assert_int_equal(ts, f->ts[i]);
	}
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 0);
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 0);
	assert_int_equal(pcapio_read_count(in), N_FRAMES);
	pcapio_close_read(in);
}

/* Nanosecond magic, version 2.4, snaplen 262144, Ethernet (1). */
static void test_file_header(void **state)
{
	struct fx *f = *state;
	uint32_t hdr[6];
	FILE *fp;

	make_frames(f);
	write_frames(f, 1);
	fp = fopen(f->path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(hdr, 4, 6, fp), 6);
	fclose(fp);
	assert_int_equal(hdr[0], 0xa1b23c4d);
	assert_int_equal(hdr[1], 2 | 4 << 16);
	assert_int_equal(hdr[4], PCAPIO_SNAPLEN);
	assert_int_equal(hdr[5], 1);
}

static void test_write_bad_len(void **state)
{
	struct fx *f = *state;
	static uint8_t big[PCAPIO_SNAPLEN + 1];
	struct pcap_out *out = pcapio_open_write(f->path);

	assert_non_null(out);
	assert_int_equal(pcapio_write(out, big, 0, 0), -EMSGSIZE);
	assert_int_equal(pcapio_write(out, big, PCAPIO_SNAPLEN + 1, 0),
			 -EMSGSIZE);
	assert_int_equal(pcapio_write(out, big, PCAPIO_SNAPLEN, 0), 0);
	assert_int_equal(pcapio_close_write(out), 0);
	assert_int_equal(pcapio_close_write(NULL), 0);
	pcapio_close_read(NULL);
}

/* Buffered writes fail late: some write or the close reports ENOSPC. */
static void test_write_full_disk(void **state)
{
	struct fx *f = *state;
	struct pcap_out *out;
	int i, rc = 0;

	if (access("/dev/full", W_OK)) {
		skip();
		return;
	}
	make_frames(f);
	out = pcapio_open_write("/dev/full");
	assert_non_null(out);
	for (i = 0; i < N_FRAMES && !rc; i++)
		rc = pcapio_write(out, f->frames[1], f->lens[1], 0);
	/* A stream that failed keeps failing. */
	if (rc)
		assert_int_equal(pcapio_write(out, f->frames[0], 1, 0), rc);
	assert_true(rc == 0 || rc == -ENOSPC);
	assert_int_equal(pcapio_close_write(out), -ENOSPC);
	assert_true(i < N_FRAMES); /* 64 x 9000 bytes overflow any buffer */
}

static void test_open_errors(void **state)
{
	struct fx *f = *state;
	char path[160];

	errno = 0;
	assert_null(pcapio_open_read("/nonexistent/steer.pcap"));
	assert_int_equal(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/no/such/dir.pcap", f->dir);
	errno = 0;
	assert_null(pcapio_open_write(path));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(pcapio_open_read(f->dir)); /* a directory */
	assert_true(errno == EINVAL || errno == EISDIR);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void test_garbage(void **state)
{
	struct fx *f = *state;
	static const char text[] = "this is not a capture file at all\n";

	write_file(f->path, text, sizeof(text) - 1);
	errno = 0;
	assert_null(pcapio_open_read(f->path));
	assert_int_equal(errno, EINVAL);
	write_file(f->path, "", 0);
	errno = 0;
	assert_null(pcapio_open_read(f->path));
	assert_int_equal(errno, EINVAL);
}

/* A record cut in half: the frames before it, then -EIO for good. */
static void test_truncated(void **state)
{
	struct fx *f = *state;
	const uint8_t *data;
	uint32_t cap, wire;
	uint64_t ts;
	struct pcap_in *in;
	long size;
	FILE *fp;

	make_frames(f);
	write_frames(f, 3);
	fp = fopen(f->path, "rb+");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	assert_int_equal(truncate(f->path, size - (long)f->lens[2] / 2), 0);
	in = pcapio_open_read(f->path);
	assert_non_null(in);
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 1);
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 1);
	assert_int_equal(cap, f->lens[1]);
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), -EIO);
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), -EIO);
	assert_int_equal(pcapio_read_count(in), 2);
	pcapio_close_read(in);
}

static void test_not_ethernet(void **state)
{
	struct fx *f = *state;
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *d;

	assert_non_null(dead);
	d = pcap_dump_open(dead, f->path);
	assert_non_null(d);
	pcap_dump_close(d);
	pcap_close(dead);
	errno = 0;
	assert_null(pcapio_open_read(f->path));
	assert_int_equal(errno, EPROTONOSUPPORT);
}

static size_t put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return 4;
}

/* One Enhanced Packet Block of interface 0. */
static size_t epb(uint8_t *p, uint64_t ts, const uint8_t *d, uint32_t n)
{
	uint32_t pad = (4 - n % 4) % 4, len = 32 + n + pad;
	size_t o = 0;

	o += put32(p + o, 6);
	o += put32(p + o, len);
	o += put32(p + o, 0);
	o += put32(p + o, (uint32_t)(ts >> 32));
	o += put32(p + o, (uint32_t)ts);
	o += put32(p + o, n);
	o += put32(p + o, n);
	memcpy(p + o, d, n);
	memset(p + o + n, 0, pad);
	o += n + pad;
	o += put32(p + o, len);
	return o;
}

/* A hand-built pcapng: SHB, an Ethernet IDB with if_tsresol 9, 2 EPBs. */
static void test_pcapng(void **state)
{
	struct fx *f = *state;
	static uint8_t buf[4096];
	const uint8_t *data;
	uint32_t cap, wire;
	uint64_t ts, t0 = 1600000000123456789ull;
	struct pcap_in *in;
	size_t o = 0;

	make_frames(f);
	o += put32(buf + o, 0x0a0d0d0a); /* SHB */
	o += put32(buf + o, 28);
	o += put32(buf + o, 0x1a2b3c4d);
	o += put32(buf + o, 1); /* version 1.0 */
	o += put32(buf + o, 0xffffffff);
	o += put32(buf + o, 0xffffffff); /* section length unknown */
	o += put32(buf + o, 28);
	o += put32(buf + o, 1); /* IDB */
	o += put32(buf + o, 32);
	o += put32(buf + o, 1);		  /* linktype Ethernet, reserved 0 */
	o += put32(buf + o, 65535);	  /* snaplen */
	o += put32(buf + o, 9 | 1 << 16); /* if_tsresol, length 1 */
	o += put32(buf + o, 9);		  /* 10^-9, padded */
	o += put32(buf + o, 0);		  /* opt_endofopt */
	o += put32(buf + o, 32);
	o += epb(buf + o, t0, f->frames[2], f->lens[2]);
	o += epb(buf + o, t0 + 1, f->frames[3], f->lens[3]);
	write_file(f->path, buf, o);

	in = pcapio_open_read(f->path);
	assert_non_null(in);
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 1);
	assert_int_equal(cap, f->lens[2]);
	assert_memory_equal(data, f->frames[2], f->lens[2]);
	assert_int_equal(ts, t0);
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 1);
	assert_memory_equal(data, f->frames[3], f->lens[3]);
	assert_int_equal(ts, t0 + 1);
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 0);
	pcapio_close_read(in);
}

/* The input_len column of the fixture index, in case order. */
static int read_index(const char *csv, uint32_t *lens, int max)
{
	char line[512];
	int col = -1, n = 0, i;
	FILE *fp = fopen(csv, "r");

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		char *save, *tok = strtok_r(line, ",\n", &save);

		for (i = 0; tok; i++, tok = strtok_r(NULL, ",\n", &save)) {
			if (col < 0 && !strcmp(tok, "input_len"))
				col = i;
			else if (col >= 0 && i == col && n < max)
				lens[n++] = (uint32_t)strtoul(tok, NULL, 10);
		}
	}
	fclose(fp);
	return col < 0 ? -1 : n;
}

static void test_katran_fixture(void **state)
{
	const char *dir = getenv("STEER_PCAPS");
	char pcap[512], csv[512];
	uint32_t lens[64], cap, wire;
	const uint8_t *data;
	uint64_t ts;
	struct pcap_in *in;
	int n, i;

	if (!dir)
		dir = "tests/data/pcaps";
	snprintf(pcap, sizeof(pcap),
		 "%s/katran/XdpDecapTestFixtures_input.pcap", dir);
	snprintf(csv, sizeof(csv), "%s/katran/XdpDecapTestFixtures_index.csv",
		 dir);
	n = read_index(csv, lens, 64);
	assert_int_equal(n, 10);
	in = pcapio_open_read(pcap);
	assert_non_null(in);
	for (i = 0; i < n; i++) {
		assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 1);
		assert_int_equal(cap, lens[i]);
		assert_int_equal(wire, lens[i]);
		/* The README and tshark: 1 s apart from 2020-01-01. */
		assert_int_equal(ts,
				 (1577836800ull + (uint64_t)i) * 1000000000ull);
	}
	assert_int_equal(pcapio_next(in, &data, &cap, &wire, &ts), 0);
	assert_int_equal(pcapio_read_count(in), 10);
	pcapio_close_read(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_bad_len, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_full_disk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_ethernet, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pcapng, setup, teardown),
		cmocka_unit_test(test_katran_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
