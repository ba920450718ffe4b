/*
 * dpdkbench: the C reference of PacketEngineComparison. Measures, with DPDK's own libraries and no NIC or
 * hugepages (run with EAL arguments such as --no-huge --no-pci -l 0), the per-unit cost of
 *
 *   cksum        rte_raw_cksum over 1448 bytes                                   (ns per call)
 *   gso_partial  librte_gso: one 64 KiB TCPv4 packet into 44 x 1448-byte segments (ns per segment)
 *   gso_full     the same, then the IPv4 header and TCP checksums of every segment (ns per segment)
 *   gro1/gro16   librte_gro (context API, TCPv4): 720 x 1448-byte segments of 1 or 16 interleaved flows,
 *                then a flush of everything                                        (ns per input packet)
 *   gro1_ck/gro16_ck  the same with each input's IPv4 and TCP checksums verified in C first
 *   gro_prepare  allocating and filling the 720 input mbufs, which the gro figures exclude
 *
 * Times are the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that a shared, busy machine adds as
 * little as possible; each figure is the best of several batches within the time budget. Output: one
 * "key=value" line per figure, then "ok=1".
 *
 * Build: gcc -O3 -DALLOW_EXPERIMENTAL_API dpdkbench.c $(pkg-config --cflags --libs libdpdk)
 * Usage: dpdkbench [EAL arguments] -- [budget-ms-per-figure]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_gro.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>
#include <rte_version.h>

#define SEGMENT 1448
#define SEGMENTS 44
#define L2 14
#define L3 20
#define L4 32 /* TCP with the timestamp option, as the Java benchmarks */
#define HEADERS (L2 + L3 + L4)
#define GRO_PACKETS 720
#define MAX_FLOWS 16

static double budget_ns = 300e6;

static double cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Keeps the compiler from hoisting work out of a timed loop. */
#define OPAQUE(p) __asm__ volatile("" : : "r"(p) : "memory")

static void die(const char *what)
{
	fprintf(stderr, "dpdkbench: %s\n", what);
	exit(1);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/*
 * Ethernet + IPv4 + TCP (ACK only, timestamps) + payload at p; with valid checksums when `checksums`.
 * Returns the frame length.
 */
static int write_tcp4(uint8_t *p, int flow, uint32_t seq, uint16_t id, int payload, int checksums)
{
	memset(p, 0, HEADERS);
	p[0] = 0x02; p[5] = 0x02; p[6] = 0x02; p[11] = 0x01; /* dst, src MAC */
	put16(p + 12, RTE_ETHER_TYPE_IPV4);
	uint8_t *ip = p + L2;
	ip[0] = 0x45;
	put16(ip + 2, L3 + L4 + payload);
	put16(ip + 4, id);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	put32(ip + 12, 0x0A560101);
	put32(ip + 16, 0x0A560102);
	uint8_t *tcp = ip + L3;
	put16(tcp, 40000 + flow);
	put16(tcp + 2, 8080);
	put32(tcp + 4, seq);
	put32(tcp + 8, 77777);
	tcp[12] = (L4 / 4) << 4;
	tcp[13] = RTE_TCP_ACK_FLAG;
	put16(tcp + 14, 502);
	put32(tcp + 20, 0x0101080A);
	put32(tcp + 24, 0x01020304);
	put32(tcp + 28, 0x0A0B0C0D);
	for (int i = 0; i < payload; i++)
		tcp[L4 + i] = (uint8_t)(i * 31 + flow);
	if (checksums) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;
		h->hdr_checksum = rte_ipv4_cksum(h);
		((struct rte_tcp_hdr *)tcp)->cksum = rte_ipv4_udptcp_cksum(h, tcp);
	}
	return HEADERS + payload;
}

static double bench_cksum(void)
{
	static uint8_t buf[SEGMENT + 64] __attribute__((aligned(64)));
	for (int i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 17 + 3);
	const int batch = 20000;
	double best = 1e30;
	uint32_t sink = 0;
	double end = cpu_ns() + budget_ns;
	do {
		double t0 = cpu_ns();
		for (int i = 0; i < batch; i++) {
			uint8_t *p = buf;
			OPAQUE(p);
			sink += rte_raw_cksum(p, SEGMENT);
		}
		double t = (cpu_ns() - t0) / batch;
		if (t < best)
			best = t;
	} while (cpu_ns() < end);
	if (sink == 1)
		printf("# %u\n", sink);
	return best;
}

static struct rte_mempool *direct_pool, *indirect_pool, *big_pool;

/* ns per segment of rte_gso_segment (plus the checksums of each segment when `full`) and freeing the segments. */
static double bench_gso(int full)
{
	struct rte_mbuf *pkt = rte_pktmbuf_alloc(big_pool);
	if (pkt == NULL)
		die("cannot allocate the 64 KiB mbuf");
	int len = HEADERS + SEGMENT * SEGMENTS;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(pkt, len);
	if (p == NULL)
		die("64 KiB does not fit one mbuf");
	write_tcp4(p, 0, 1000000, 0x1234, SEGMENT * SEGMENTS, 0);
	pkt->l2_len = L2;
	pkt->l3_len = L3;
	pkt->l4_len = L4;
	pkt->tso_segsz = SEGMENT;
	struct rte_gso_ctx ctx = {
		.direct_pool = direct_pool,
		.indirect_pool = indirect_pool,
		.flag = 0, /* incrementing IPv4 IDs, as the Java segmenter's INCREMENTING mode */
		.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO,
		.gso_size = HEADERS + SEGMENT,
	};
	struct rte_mbuf *out[64];
	const int batch = 100;
	double best = 1e30;
	int ok = 1;
	double end = cpu_ns() + budget_ns;
	do {
		double t0 = cpu_ns();
		for (int b = 0; b < batch; b++) {
			/* rte_gso_segment clears the TSO flag of its input. */
			pkt->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
			int n = rte_gso_segment(pkt, &ctx, out, 64);
			if (n != SEGMENTS)
				die("rte_gso_segment did not make 44 segments");
			if (full) {
				for (int i = 0; i < n; i++) {
					struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(out[i], struct rte_ipv4_hdr *, L2);
					struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)((uint8_t *)ip + L3);
					ip->hdr_checksum = 0;
					ip->hdr_checksum = rte_ipv4_cksum(ip);
					tcp->cksum = 0;
					tcp->cksum = rte_ipv4_udptcp_cksum_mbuf(out[i], ip, L2 + L3);
				}
			}
			if (full && b == 0) {
				struct rte_mbuf *last = out[n - 1];
				struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(last, struct rte_ipv4_hdr *, L2);
				ok &= last->pkt_len == HEADERS + SEGMENT
					&& rte_ipv4_udptcp_cksum_mbuf_verify(last, ip, L2 + L3) == 0;
			}
			rte_pktmbuf_free_bulk(out, n);
		}
		double t = (cpu_ns() - t0) / ((double)batch * SEGMENTS);
		if (t < best)
			best = t;
	} while (cpu_ns() < end);
	if (!ok)
		die("a GSO segment's TCP checksum does not verify");
	rte_pktmbuf_free(pkt);
	return best;
}

static uint8_t gro_frames[GRO_PACKETS][HEADERS + SEGMENT];

/* Fills `pkts` with fresh copies of the 720 prebuilt frames (not timed in the gro figures). */
static void gro_prepare(struct rte_mbuf **pkts)
{
	if (rte_pktmbuf_alloc_bulk(direct_pool, pkts, GRO_PACKETS) != 0)
		die("cannot allocate 720 mbufs");
	for (int i = 0; i < GRO_PACKETS; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, HEADERS + SEGMENT);
		memcpy(p, gro_frames[i], HEADERS + SEGMENT);
		m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
		m->l2_len = L2;
		m->l3_len = L3;
		m->l4_len = L4;
	}
}

/* ns per input packet: [verify checksums,] rte_gro_reassemble, rte_gro_timeout_flush, free what came out. */
static double bench_gro(int flows, int verify, double *prepare_ns)
{
	uint32_t seq[MAX_FLOWS] = {0};
	uint16_t id[MAX_FLOWS] = {0};
	for (int i = 0; i < GRO_PACKETS; i++) {
		int f = i % flows;
		write_tcp4(gro_frames[i], f, seq[f], id[f], SEGMENT, 1);
		seq[f] += SEGMENT;
		id[f]++;
	}
	struct rte_gro_param param = {
		.gro_types = RTE_GRO_TCP_IPV4,
		.max_flow_num = MAX_FLOWS,
		.max_item_per_flow = GRO_PACKETS / MAX_FLOWS * MAX_FLOWS / flows,
		.socket_id = 0,
	};
	void *ctx = rte_gro_ctx_create(&param);
	if (ctx == NULL)
		die("rte_gro_ctx_create failed");
	static struct rte_mbuf *pkts[GRO_PACKETS], *out[GRO_PACKETS];
	double best = 1e30, best_prepare = 1e30;
	long bad = 0, merged_out = 0, rounds = 0;
	double end = cpu_ns() + budget_ns;
	do {
		double t0 = cpu_ns();
		gro_prepare(pkts);
		double t1 = cpu_ns();
		int n = GRO_PACKETS;
		if (verify) {
			int k = 0;
			for (int i = 0; i < n; i++) {
				struct rte_mbuf *m = pkts[i];
				struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, L2);
				if (rte_raw_cksum(ip, L3) != 0xffff
						|| rte_ipv4_udptcp_cksum_verify(ip, (uint8_t *)ip + L3) != 0) {
					bad++;
					rte_pktmbuf_free(m);
				} else {
					pkts[k++] = m;
				}
			}
			n = k;
		}
		int left = rte_gro_reassemble(pkts, n, ctx);
		int flushed = rte_gro_timeout_flush(ctx, 0, RTE_GRO_TCP_IPV4, out, GRO_PACKETS);
		merged_out += flushed;
		rte_pktmbuf_free_bulk(pkts, left);
		rte_pktmbuf_free_bulk(out, flushed);
		double t2 = cpu_ns();
		rounds++;
		if ((t2 - t1) / GRO_PACKETS < best)
			best = (t2 - t1) / GRO_PACKETS;
		if ((t1 - t0) / GRO_PACKETS < best_prepare)
			best_prepare = (t1 - t0) / GRO_PACKETS;
	} while (cpu_ns() < end || rounds < 3);
	rte_gro_ctx_destroy(ctx);
	if (bad != 0)
		die("a GRO input's checksum does not verify");
	/* 45 segments fill one 64 KiB merged packet: 16 per burst, whatever the number of flows. */
	if (merged_out / rounds > GRO_PACKETS / 40)
		die("librte_gro did not merge the burst");
	if (prepare_ns != NULL)
		*prepare_ns = best_prepare;
	return best;
}

int main(int argc, char **argv)
{
	int used = rte_eal_init(argc, argv);
	if (used < 0)
		die("rte_eal_init failed (try --no-huge --no-pci -l 0)");
	argc -= used;
	argv += used;
	if (argc > 1)
		budget_ns = atof(argv[1]) * 1e6;
	direct_pool = rte_pktmbuf_pool_create("direct", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	indirect_pool = rte_pktmbuf_pool_create("indirect", 4095, 256, 0, 0, SOCKET_ID_ANY);
	big_pool = rte_pktmbuf_pool_create("big", 7, 0, 0, UINT16_MAX, SOCKET_ID_ANY);
	if (direct_pool == NULL || indirect_pool == NULL || big_pool == NULL)
		die("cannot create the mbuf pools (too little memory? try -m 256)");

	printf("cksum=%.2f\n", bench_cksum());
	printf("gso_partial=%.2f\n", bench_gso(0));
	printf("gso_full=%.2f\n", bench_gso(1));
	double prepare = 0;
	printf("gro1=%.2f\n", bench_gro(1, 0, &prepare));
	printf("gro16=%.2f\n", bench_gro(16, 0, NULL));
	printf("gro1_ck=%.2f\n", bench_gro(1, 1, NULL));
	printf("gro16_ck=%.2f\n", bench_gro(16, 1, NULL));
	printf("gro_prepare=%.2f\n", prepare);
	printf("dpdk=%s\n", rte_version());
	printf("ok=1\n");
	fflush(stdout);
	rte_eal_cleanup();
	return 0;
}
