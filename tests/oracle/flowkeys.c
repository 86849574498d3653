// SPDX-License-Identifier: GPL-2.0-only
/*
 * flowkeys: print the flow key parse_packet() gives every frame of a
 * capture, one line per frame, for comparison with another dissector:
 *
 *   frame_no status family proto src dst sport dport flags
 *
 * status is "ok", "notip" or the name of the parse error; family is 4 or
 * 6 (innermost); ports are in host order; flags are PKT_F_* letters
 * (F frag, I icmp error, C gue control, S steer private data, L ports
 * valid) or "-". Fields a failed parse leaves meaningless print as "-".
 * Exit status: 0 after the whole file, 1 when it cannot be read, 2 on
 * bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "steer/parse.h"

static const char *const flowkeys_err_names[PERR__MAX] = {
	[PERR_NONE] = "ok",
	[PERR_TRUNC_ETH] = "trunc_eth",
	[PERR_VLAN_DEPTH] = "vlan_depth",
	[PERR_TRUNC_IP] = "trunc_ip",
	[PERR_BAD_IP] = "bad_ip",
	[PERR_IP6_EXT_DEPTH] = "ip6_ext_depth",
	[PERR_TRUNC_L4] = "trunc_l4",
	[PERR_BAD_L4] = "bad_l4",
	[PERR_ICMP_QUOTE] = "icmp_quote",
	[PERR_ENCAP_DEPTH] = "encap_depth",
	[PERR_BAD_GUE] = "bad_gue",
};

static const struct {
	__u8 bit;
	char letter;
} flowkeys_flag_letters[] = {
	{PKT_F_FRAG, 'F'},	 {PKT_F_ICMP_ERR, 'I'}, {PKT_F_GUE_CTRL, 'C'},
	{PKT_F_STEER_PRIV, 'S'}, {PKT_F_L4, 'L'},
};

/*
 * Frames are copied 2 bytes into an aligned buffer, as the kernel's
 * NET_IP_ALIGN places them, so the IP header after a 14-byte Ethernet
 * header is 4-byte aligned as parse.h's header structs require. libpcap
 * caps a frame at 262144 bytes.
 */
#define FLOWKEYS_IP_ALIGN 2
#define FLOWKEYS_FRAME_MAX 262144

static __u8 flowkeys_buf[FLOWKEYS_IP_ALIGN + FLOWKEYS_FRAME_MAX]
	__attribute__((aligned(8)));

#define FLOWKEYS_NFLAGS                                                        \
	(sizeof(flowkeys_flag_letters) / sizeof(flowkeys_flag_letters[0]))

static void flowkeys_addr_format(const struct flow_addr *a, char *buf,
				 size_t len)
{
	if (flow_addr_is_v4(a))
		inet_ntop(AF_INET, &a->w[3], buf, len);
	else
		inet_ntop(AF_INET6, a->b, buf, len);
}

static void flowkeys_flags_format(__u8 flags, char *buf)
{
	size_t i, n = 0;

	for (i = 0; i < FLOWKEYS_NFLAGS; i++)
		if (flags & flowkeys_flag_letters[i].bit)
			buf[n++] = flowkeys_flag_letters[i].letter;
	if (n == 0)
		buf[n++] = '-';
	buf[n] = '\0';
}

static void flowkeys_print(unsigned long frame, int rc,
			   const struct pkt_meta *m)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char flags[FLOWKEYS_NFLAGS + 1];
	const struct flow_key *k = &m->key;

	if (rc != 0) {
		const char *name = "unknown";

		if (rc == 1)
			name = "notip";
		else if (rc < 0 && -rc < PERR__MAX)
			name = flowkeys_err_names[-rc];
		printf("%lu %s - - - - - - -\n", frame, name);
		return;
	}
	flowkeys_addr_format(&k->src, src, sizeof(src));
	flowkeys_addr_format(&k->dst, dst, sizeof(dst));
	flowkeys_flags_format(m->flags, flags);
	printf("%lu ok %u %u %s %s %u %u %s\n", frame, m->family, k->proto, src,
	       dst, steer_ntohs(k->sport), steer_ntohs(k->dport), flags);
}

static int flowkeys_file_run(const char *path, const struct parse_cfg *cfg)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	unsigned long frame = 0;
	struct pkt_meta m;
	pcap_t *p;
	int rc;

	p = pcap_open_offline(path, errbuf);
	if (!p) {
		fprintf(stderr, "flowkeys: %s: %s\n", path, errbuf);
		return -EIO;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "flowkeys: %s: link type %d is not Ethernet\n",
			path, pcap_datalink(p));
		pcap_close(p);
		return -EPROTONOSUPPORT;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		__u8 *f = flowkeys_buf + FLOWKEYS_IP_ALIGN;
		__u32 len = hdr->caplen;
		int prc;

		frame++;
		if (len > FLOWKEYS_FRAME_MAX) {
			fprintf(stderr, "flowkeys: %s: frame %lu: %u bytes\n",
				path, frame, len);
			pcap_close(p);
			return -EFBIG;
		}
		memcpy(f, data, len);
		prc = parse_packet(f, f + len, cfg, &m);
		flowkeys_print(frame, prc, &m);
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "flowkeys: %s: frame %lu: %s\n", path,
			frame + 1, pcap_geterr(p));
		pcap_close(p);
		return -EIO;
	}
	pcap_close(p);
	return 0;
}

static int flowkeys_uint_parse(const char *s, unsigned long max,
			       unsigned long *out)
{
	char *endp;

	errno = 0;
	*out = strtoul(s, &endp, 10);
	if (errno || endp == s || *endp || *out > max)
		return -EINVAL;
	return 0;
}

static void flowkeys_usage(void)
{
	fprintf(stderr,
		"usage: flowkeys [--gue-port N] [--max-encap N] FILE\n"
		"  --gue-port N   UDP port of GUE (0 disables, default 0)\n"
		"  --max-encap N  tunnels peeled at most (0..%d, default %d)\n",
		STEER_MAX_ENCAP, STEER_MAX_ENCAP);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"gue-port", required_argument, NULL, 'g'},
		{"max-encap", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct parse_cfg cfg = {.gue_port = 0, .max_encap = STEER_MAX_ENCAP};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "g:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (flowkeys_uint_parse(optarg, 65535, &v)) {
				fprintf(stderr,
					"flowkeys: --gue-port expects 0..65535, got '%s'\n",
					optarg);
				return 2;
			}
			cfg.gue_port = steer_htons((__u16)v);
			break;
		case 'm':
			if (flowkeys_uint_parse(optarg, STEER_MAX_ENCAP, &v)) {
				fprintf(stderr,
					"flowkeys: --max-encap expects 0..%d, got '%s'\n",
					STEER_MAX_ENCAP, optarg);
				return 2;
			}
			cfg.max_encap = (__u8)v;
			break;
		case 'h':
			flowkeys_usage();
			return 0;
		default:
			flowkeys_usage();
			return 2;
		}
	}
	if (optind != argc - 1) {
		flowkeys_usage();
		return 2;
	}
	if (flowkeys_file_run(argv[optind], &cfg))
		return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
