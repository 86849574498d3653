// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer's parser and decapsulation against Katran's reference packets
 * ($STEER_PCAPS/katran/, tests/data/README.md): a second implementation's
 * tables of input packet, expected output packet and XDP action.
 *
 * - XdpDecapTestFixtures, XdpDecapGueTestFixtures: where Katran's
 *   decapsulator changes the packet, steer_decap_prepare() must give the
 *   same bytes; where Katran passes it unchanged, steer must find no
 *   tunnel; Katran drops fragments by policy, steer keys them on their
 *   addresses with ports zero.
 * - KatranTestFixtures, KatranUdpFlowMigrationTestFixtures: where Katran
 *   encapsulates (IPIP, 4in6, 6in6, GUE), decapsulating its output must
 *   give back the input's IP packet byte for byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "steer/decap.h"
#include "steer/parse.h"

#define KT_GUE_PORT 9886 /* Katran's GUE destination port */
#define KT_ETH_LEN 14
/*
 * Frames start 2 bytes past a malloc()ed (so 4-byte aligned) address, as
 * the kernel's NET_IP_ALIGN places them, so that the IP header after a
 * 14-byte Ethernet header is 4-byte aligned as parse.h's structs require.
 */
#define KT_IP_ALIGN 2
#define KT_SCRATCH_LEN 65536 /* larger than any pcap frame here */

struct kt_frame {
	__u8 *mem; /* the allocation; data = mem + KT_IP_ALIGN */
	__u8 *data;
	__u32 len;
};

struct kt_case {
	unsigned int no;
	char action[16];
	unsigned int in_len;
	unsigned int out_len;
	unsigned int out_frame; /* 1-based frame of the expected output */
};

/* One fixture set: what to load, what to expect, and the loaded data. */
struct kt_set {
	const char *name;
	unsigned int cases_expected;   /* rows of the index csv */
	unsigned int checked_expected; /* cases the test must check */
	struct kt_frame *in;
	size_t n_in;
	struct kt_frame *out;
	size_t n_out;
	struct kt_case *cases;
	size_t n_cases;
	__u8 *scratch; /* KT_IP_ALIGN + KT_SCRATCH_LEN bytes for decap */
};

static void kt_frames_free(struct kt_frame *f, size_t n)
{
	size_t i;

	for (i = 0; f && i < n; i++)
		free(f[i].mem);
	free(f);
}

/* Every frame of an Ethernet capture, copied; 0 or a negative errno. */
static int kt_pcap_load(const char *path, struct kt_frame **out, size_t *n)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	struct kt_frame *f = NULL, *nf;
	size_t cnt = 0;
	pcap_t *p;
	int rc, err = 0;

	p = pcap_open_offline(path, errbuf);
	if (!p) {
		print_error("%s: %s\n", path, errbuf);
		return -ENOENT;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		err = -EPROTONOSUPPORT;
		goto out_close;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		if (hdr->caplen != hdr->len) { /* fixtures are never cut */
			err = -EINVAL;
			goto out_close;
		}
		nf = realloc(f, (cnt + 1) * sizeof(*f));
		if (!nf) {
			err = -ENOMEM;
			goto out_close;
		}
		f = nf;
		f[cnt].mem = malloc(KT_IP_ALIGN + hdr->caplen);
		if (!f[cnt].mem) {
			err = -ENOMEM;
			goto out_close;
		}
		f[cnt].data = f[cnt].mem + KT_IP_ALIGN;
		memcpy(f[cnt].data, data, hdr->caplen);
		f[cnt].len = hdr->caplen;
		cnt++;
	}
	if (rc == PCAP_ERROR)
		err = -EIO;
out_close:
	pcap_close(p);
	if (err) {
		kt_frames_free(f, cnt);
		return err;
	}
	*out = f;
	*n = cnt;
	return 0;
}

/*
 * One row of the index csv: case,description,action,input_len,
 * expected_output_len,output_frame_no. The description may be quoted
 * and hold commas. Returns 0 or -EINVAL.
 */
static int kt_csv_row_parse(const char *line, struct kt_case *c)
{
	const char *p = strchr(line, ',');

	if (sscanf(line, "%u", &c->no) != 1 || !p)
		return -EINVAL;
	p++;
	if (*p == '"') {
		for (p++; *p; p++) {
			if (p[0] == '"' && p[1] == '"')
				p++;
			else if (p[0] == '"')
				break;
		}
		if (*p != '"')
			return -EINVAL;
		p++;
	} else {
		p = strchr(p, ',');
		if (!p)
			return -EINVAL;
	}
	if (sscanf(p, ",%15[^,],%u,%u,%u", c->action, &c->in_len, &c->out_len,
		   &c->out_frame) != 4)
		return -EINVAL;
	return 0;
}

static int kt_csv_load(const char *path, struct kt_case **out, size_t *n)
{
	struct kt_case *cases = NULL, *nc;
	size_t cnt = 0, cap = 0;
	char *line = NULL;
	size_t linecap = 0;
	int err = 0, first = 1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (getline(&line, &linecap, f) > 0) {
		if (first) { /* header row */
			first = 0;
			continue;
		}
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			nc = realloc(cases, cap * sizeof(*cases));
			if (!nc) {
				err = -ENOMEM;
				break;
			}
			cases = nc;
		}
		err = kt_csv_row_parse(line, &cases[cnt]);
		if (err) {
			print_error("%s: bad row: %s", path, line);
			break;
		}
		cnt++;
	}
	free(line);
	fclose(f);
	if (err) {
		free(cases);
		return err;
	}
	*out = cases;
	*n = cnt;
	return 0;
}

static int kt_set_setup(void **state)
{
	struct kt_set *s = *state;
	const char *dir = getenv("STEER_PCAPS");
	char path[4096];

	if (!dir) {
		print_error("STEER_PCAPS is not set\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/katran/%s_input.pcap", dir, s->name);
	if (kt_pcap_load(path, &s->in, &s->n_in))
		return -1;
	snprintf(path, sizeof(path), "%s/katran/%s_expected_output.pcap", dir,
		 s->name);
	if (kt_pcap_load(path, &s->out, &s->n_out))
		return -1;
	snprintf(path, sizeof(path), "%s/katran/%s_index.csv", dir, s->name);
	if (kt_csv_load(path, &s->cases, &s->n_cases))
		return -1;
	s->scratch = malloc(KT_IP_ALIGN + KT_SCRATCH_LEN);
	return s->scratch ? 0 : -1;
}

static int kt_set_teardown(void **state)
{
	struct kt_set *s = *state;

	kt_frames_free(s->in, s->n_in);
	kt_frames_free(s->out, s->n_out);
	free(s->cases);
	free(s->scratch);
	s->in = s->out = NULL;
	s->cases = NULL;
	s->scratch = NULL;
	s->n_in = s->n_out = s->n_cases = 0;
	return 0;
}

/*
 * Length of the IP datagram at ip by its own header (IPv4 total length,
 * IPv6 40 + payload length), read here without steer's parser; -1 when
 * it is not IP or longer than avail.
 */
static long kt_ip_len(const __u8 *ip, size_t avail)
{
	long len;

	if (avail < 1)
		return -1;
	if ((ip[0] >> 4) == 4 && avail >= 20)
		len = (ip[2] << 8) | ip[3];
	else if ((ip[0] >> 4) == 6 && avail >= 40)
		len = 40 + ((ip[4] << 8) | ip[5]);
	else
		return -1;
	return (size_t)len <= avail ? len : -1;
}

static void kt_cfg_init(struct parse_cfg *cfg)
{
	cfg->gue_port = steer_htons(KT_GUE_PORT);
	cfg->max_encap = STEER_MAX_ENCAP;
}

/* Both frames of case c, checked against the index. */
static void kt_case_frames(const struct kt_set *s, const struct kt_case *c,
			   const struct kt_frame **in,
			   const struct kt_frame **out)
{
	assert_in_range(c->no, 1, s->n_in);
	assert_in_range(c->out_frame, 1, s->n_out);
	*in = &s->in[c->no - 1];
	*out = &s->out[c->out_frame - 1];
	assert_int_equal((*in)->len, c->in_len);
	assert_int_equal((*out)->len, c->out_len);
}

/*
 * Decapsulate a copy of frame f (in s->scratch) as steer would and return
 * the resulting frame (Ethernet header plus inner IP datagram) in *res and
 * *res_len. Asserts that parse_packet() finds a tunnel (of kind tun when
 * tun >= 0) and that decap changes nothing from the inner packet on.
 */
static void kt_decap(const struct kt_set *s, const struct kt_frame *f, int tun,
		     const __u8 **res, size_t *res_len)
{
	struct parse_cfg cfg;
	struct pkt_meta m;
	long inner_len;
	int rc, off;
	__u8 *b;

	kt_cfg_init(&cfg);
	assert_true(f->len <= KT_SCRATCH_LEN);
	b = s->scratch + KT_IP_ALIGN;
	memcpy(b, f->data, f->len);
	rc = parse_packet(b, b + f->len, &cfg, &m);
	assert_int_equal(rc, 0);
	if (tun >= 0)
		assert_int_equal(m.tun_kind, tun);
	assert_int_not_equal(m.tun_kind, TUN_NONE);
	assert_true(m.depth >= 1);
	assert_true(m.tun_inner_off < f->len);
	inner_len = kt_ip_len(b + m.tun_inner_off, f->len - m.tun_inner_off);
	assert_true(inner_len > 0);
	if (m.depth == 1)
		assert_int_equal(m.l3_end, m.tun_inner_off + inner_len);

	off = steer_decap_prepare(b, b + f->len, &m);
	assert_true(off >= 0);
	assert_int_equal(off + KT_ETH_LEN, m.tun_inner_off);
	assert_memory_equal(b + m.tun_inner_off, f->data + m.tun_inner_off,
			    f->len - m.tun_inner_off);
	*res = b + off;
	*res_len = (size_t)(m.tun_inner_off + inner_len - off);
}

enum kt_kind { KT_DECAP, KT_PASS, KT_FRAG };

/*
 * One case of a decapsulator set. Returns what it was; every outcome is
 * asserted on.
 */
static enum kt_kind kt_decap_case_check(const struct kt_set *s,
					const struct kt_case *c)
{
	const struct kt_frame *in, *out;
	struct parse_cfg cfg;
	struct pkt_meta m;
	const __u8 *res;
	size_t res_len;
	int rc;

	kt_case_frames(s, c, &in, &out);
	kt_cfg_init(&cfg);
	rc = parse_packet(in->data, in->data + in->len, &cfg, &m);
	if (strcmp(c->action, "XDP_DROP") == 0) {
		/* Katran drops fragments; steer keys them by 3-tuple. */
		assert_int_equal(rc, 0);
		assert_true(m.flags & PKT_F_FRAG);
		assert_int_equal(m.key.sport, 0);
		assert_int_equal(m.key.dport, 0);
		assert_int_equal(m.tun_kind, TUN_NONE);
		return KT_FRAG;
	}
	assert_string_equal(c->action, "XDP_PASS");
	if (in->len == out->len && !memcmp(in->data, out->data, in->len)) {
		/* Passed unchanged: steer must see no tunnel either. */
		assert_true(rc == 0 || rc == 1);
		assert_int_equal(m.tun_kind, TUN_NONE);
		assert_int_equal(m.depth, 0);
		assert_int_equal(
			steer_decap_prepare(in->data, in->data + in->len, &m),
			-1);
		return KT_PASS;
	}
	kt_decap(s, in, -1, &res, &res_len);
	assert_int_equal(res_len, out->len);
	assert_memory_equal(res, out->data, out->len);
	return KT_DECAP;
}

static void kt_decap_set_run(void **state)
{
	const struct kt_set *s = *state;
	unsigned int n[3] = {0};
	size_t i;

	assert_int_equal(s->n_cases, s->cases_expected);
	assert_int_equal(s->n_in, s->n_cases);
	for (i = 0; i < s->n_cases; i++)
		n[kt_decap_case_check(s, &s->cases[i])]++;
	print_message("%s: %u decapsulated, %u passed, %u fragments\n", s->name,
		      n[KT_DECAP], n[KT_PASS], n[KT_FRAG]);
	assert_int_equal(n[KT_DECAP], s->checked_expected);
	assert_int_equal(n[KT_DECAP] + n[KT_PASS] + n[KT_FRAG], s->n_cases);
}

/* The tunnel kind Katran's encapsulated output must carry. */
static int kt_encap_kind(const struct kt_frame *out)
{
	__u16 type = (out->data[12] << 8) | out->data[13];
	const __u8 *ip = out->data + KT_ETH_LEN;
	int proto = type == STEER_ETH_P_IP ? ip[9] : ip[6];

	return proto == STEER_IPPROTO_UDP ? TUN_GUE1 : TUN_IPIP;
}

/*
 * Every case where Katran encapsulated the input (XDP_TX, output
 * longer): decapsulating the output gives the input's IP packet and
 * EtherType back (its Ethernet addresses are Katran's next hop's).
 */
static void kt_encap_set_run(void **state)
{
	const struct kt_set *s = *state;
	const struct kt_frame *in, *out;
	unsigned int checked = 0;
	const __u8 *res;
	size_t i, res_len;
	long in_ip_len;

	assert_int_equal(s->n_cases, s->cases_expected);
	for (i = 0; i < s->n_cases; i++) {
		const struct kt_case *c = &s->cases[i];

		kt_case_frames(s, c, &in, &out);
		if (strcmp(c->action, "XDP_TX") != 0 || out->len <= in->len)
			continue;
		in_ip_len =
			kt_ip_len(in->data + KT_ETH_LEN, in->len - KT_ETH_LEN);
		assert_true(in_ip_len > 0);
		kt_decap(s, out, kt_encap_kind(out), &res, &res_len);
		assert_int_equal(res_len, KT_ETH_LEN + in_ip_len);
		assert_memory_equal(res + 12, in->data + 12, 2); /* EtherType */
		assert_memory_equal(res + KT_ETH_LEN, in->data + KT_ETH_LEN,
				    in_ip_len);
		/* The addresses are the output's, as decap.h promises. */
		assert_memory_equal(res, out->data, 12);
		checked++;
	}
	print_message("%s: %u encapsulated outputs decapsulated\n", s->name,
		      checked);
	assert_int_equal(checked, s->checked_expected);
}

static void kt_csv_row_parse_test(void **state)
{
	struct kt_case c;

	assert_int_equal(
		kt_csv_row_parse("9,\"a, \"\"b\"\"\",XDP_PASS,1,2,3\n", &c), 0);
	assert_int_equal(c.no, 9);
	assert_string_equal(c.action, "XDP_PASS");
	assert_int_equal(c.in_len, 1);
	assert_int_equal(c.out_len, 2);
	assert_int_equal(c.out_frame, 3);
	assert_int_equal(kt_csv_row_parse("4,plain,XDP_TX,5,6,7", &c), 0);
	assert_int_equal(c.out_frame, 7);
	assert_int_equal(kt_csv_row_parse("4,\"open,XDP_TX,5,6,7", &c),
			 -EINVAL);
	assert_int_equal(kt_csv_row_parse("4,plain,XDP_TX,5", &c), -EINVAL);
	assert_int_equal(kt_csv_row_parse("x", &c), -EINVAL);
}

/* Cases per set and how many of them decapsulate or are decapsulated. */
static struct kt_set kt_decap_set = {.name = "XdpDecapTestFixtures",
				     .cases_expected = 10,
				     .checked_expected = 3};
static struct kt_set kt_decap_gue_set = {.name = "XdpDecapGueTestFixtures",
					 .cases_expected = 17,
					 .checked_expected = 10};
static struct kt_set kt_lb_set = {.name = "KatranTestFixtures",
				  .cases_expected = 36,
				  .checked_expected = 24};
static struct kt_set kt_migration_set = {
	.name = "KatranUdpFlowMigrationTestFixtures",
	.cases_expected = 8,
	.checked_expected = 8};

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kt_csv_row_parse_test),
		cmocka_unit_test_prestate_setup_teardown(
			kt_decap_set_run, kt_set_setup, kt_set_teardown,
			&kt_decap_set),
		cmocka_unit_test_prestate_setup_teardown(
			kt_decap_set_run, kt_set_setup, kt_set_teardown,
			&kt_decap_gue_set),
		cmocka_unit_test_prestate_setup_teardown(
			kt_encap_set_run, kt_set_setup, kt_set_teardown,
			&kt_lb_set),
		cmocka_unit_test_prestate_setup_teardown(
			kt_encap_set_run, kt_set_setup, kt_set_teardown,
			&kt_migration_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
