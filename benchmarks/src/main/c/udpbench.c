/*
 * udpbench: the C reference of the netty-offload end-to-end harness.
 *
 * One binary, two roles chosen by the first argument:
 *
 *   udpbench rx --bind ADDR --port PORT --gro 0|1 --warmup S --window S --timeout S
 *       Binds a UDP socket, prints "READY port=<port>", waits for the first datagram, lets WARMUP seconds
 *       pass, then counts what arrives during WINDOW seconds and prints one "RESULT ..." line.
 *       Without --gro 1 it reads with recvmmsg (RX_BATCH datagrams per call); with --gro 1 it turns on
 *       UDP_GRO and reads coalesced batches of up to 64 KiB with recvmmsg, taking the segment size from
 *       the UDP_GRO control message.
 *
 *   udpbench tx --dst ADDR --port PORT --mode mmsg|gso --size BYTES --batch N
 *               --warmup S --window S --tail S
 *       Sends BYTES-byte datagrams to ADDR:PORT and prints one "RESULT ..." line about the WINDOW that
 *       follows the first WARMUP seconds. After the window it goes on sending until SIGTERM (the harness
 *       sends it when the receiver's window is over) or for at most TAIL seconds. mmsg: one sendmmsg per N datagrams. gso: one sendmsg per
 *       N datagrams with UDP_SEGMENT set to BYTES, so the kernel cuts them.
 *
 * Every send and receive system call is counted (including ones that returned EAGAIN or were
 * interrupted), and CPU time is the process's own user+system time from getrusage.
 * Built by the harness at run time with: gcc -O2 -o udpbench udpbench.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* include/uapi/linux/udp.h */
#endif
#ifndef UDP_GRO
#define UDP_GRO 104 /* include/uapi/linux/udp.h */
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

/* Datagrams per recvmmsg without GRO; each slot holds one datagram. */
#define RX_BATCH 64
#define RX_SLOT 2048
/* Coalesced batches per recvmmsg with GRO; a batch is at most one 64 KiB IP datagram. */
#define RX_GRO_BATCH 8
#define RX_GRO_SLOT 65536
/* Largest batch the sender accepts (UDP_MAX_SEGMENTS is 128 since Linux 6.9, 64 before). */
#define TX_MAX_BATCH 128

struct options {
    const char *role;
    const char *addr;
    int port;
    int gro;
    const char *mode;
    int size;
    int batch;
    double warmup;
    double window;
    double tail;
    double timeout;
};

struct snapshot {
    double time;
    double cpu;
    uint64_t bytes;
    uint64_t datagrams;
    uint64_t syscalls;
};

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void die(const char *what)
{
    fprintf(stderr, "udpbench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: udpbench rx --bind ADDR --port PORT --gro 0|1 --warmup S --window S --timeout S\n"
            "       udpbench tx --dst ADDR --port PORT --mode mmsg|gso --size BYTES --batch N"
            " --warmup S --window S --tail S\n");
    exit(2);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void take(struct snapshot *s, uint64_t bytes, uint64_t datagrams, uint64_t syscalls)
{
    s->time = now();
    s->cpu = cpu_seconds();
    s->bytes = bytes;
    s->datagrams = datagrams;
    s->syscalls = syscalls;
}

static void print_result(const struct snapshot *a, const struct snapshot *b)
{
    printf("RESULT seconds=%.6f bytes=%llu datagrams=%llu syscalls=%llu cpu=%.6f\n", b->time - a->time,
           (unsigned long long)(b->bytes - a->bytes), (unsigned long long)(b->datagrams - a->datagrams),
           (unsigned long long)(b->syscalls - a->syscalls), b->cpu - a->cpu);
    fflush(stdout);
}

/* Fills a sockaddr for ADDR:PORT; ADDR is an IPv4 or IPv6 literal. Returns its length. */
static socklen_t make_addr(const char *addr, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(addr, ':') != NULL) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr, &a6->sin6_addr) != 1) {
            fprintf(stderr, "udpbench: bad IPv6 address %s\n", addr);
            exit(2);
        }
        return sizeof(*a6);
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    if (inet_pton(AF_INET, addr, &a4->sin_addr) != 1) {
        fprintf(stderr, "udpbench: bad IPv4 address %s\n", addr);
        exit(2);
    }
    return sizeof(*a4);
}

static int run_rx(const struct options *o)
{
    struct sockaddr_storage ss;
    socklen_t len = make_addr(o->addr, o->port, &ss);
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    /* The same request as the Java receiver; the kernel caps it at net.core.rmem_max for both. */
    int rcvbuf = 32 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (o->gro) {
        int one = 1;
        if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) != 0)
            die("setsockopt UDP_GRO");
    }
    /* A receive timeout lets the loop notice the end of the window even when traffic stops. */
    struct timeval tv = {0, 50000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        die("bind");
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                        : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    printf("READY port=%d\n", port);
    fflush(stdout);

    int slots = o->gro ? RX_GRO_BATCH : RX_BATCH;
    size_t slot_size = o->gro ? RX_GRO_SLOT : RX_SLOT;
    char *buf = malloc((size_t)slots * slot_size);
    struct mmsghdr *msgs = calloc(slots, sizeof(*msgs));
    struct iovec *iovs = calloc(slots, sizeof(*iovs));
    char (*controls)[CMSG_SPACE(sizeof(int))] = calloc(slots, CMSG_SPACE(sizeof(int)));
    if (buf == NULL || msgs == NULL || iovs == NULL || controls == NULL)
        die("malloc");

    uint64_t bytes = 0, datagrams = 0, syscalls = 0;
    struct snapshot start = {0}, end;
    double first = 0, deadline = now() + o->timeout;
    int measuring = 0;
    for (;;) {
        for (int i = 0; i < slots; i++) {
            iovs[i].iov_base = buf + (size_t)i * slot_size;
            iovs[i].iov_len = slot_size;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            if (o->gro) {
                msgs[i].msg_hdr.msg_control = controls[i];
                msgs[i].msg_hdr.msg_controllen = sizeof(controls[i]);
            }
        }
        int n = recvmmsg(fd, msgs, slots, MSG_WAITFORONE, NULL);
        syscalls++;
        double t = now();
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                die("recvmmsg");
        } else {
            for (int i = 0; i < n; i++) {
                unsigned int got = msgs[i].msg_len;
                uint64_t segments = 1;
                if (o->gro) {
                    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != NULL;
                         c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
                        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                            int gso_size;
                            memcpy(&gso_size, CMSG_DATA(c), sizeof(gso_size));
                            if (gso_size > 0)
                                segments = (got + gso_size - 1) / gso_size;
                        }
                    }
                }
                bytes += got;
                datagrams += segments;
            }
            if (n > 0 && first == 0)
                first = t;
        }
        if (first == 0) {
            if (t > deadline) {
                printf("RESULT error=no-datagram-within-%.1fs\n", o->timeout);
                fflush(stdout);
                return 1;
            }
            continue;
        }
        if (!measuring && t >= first + o->warmup) {
            take(&start, bytes, datagrams, syscalls);
            measuring = 1;
        }
        if (measuring && t >= start.time + o->window) {
            take(&end, bytes, datagrams, syscalls);
            print_result(&start, &end);
            return 0;
        }
    }
}

static int run_tx(const struct options *o)
{
    struct sockaddr_storage ss;
    socklen_t len = make_addr(o->addr, o->port, &ss);
    if (o->batch < 1 || o->batch > TX_MAX_BATCH || o->size < 1 || (long)o->size * o->batch > 65507) {
        fprintf(stderr, "udpbench: --size %d x --batch %d must be at most 65507 bytes and 1..%d datagrams\n",
                o->size, o->batch, TX_MAX_BATCH);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    int gso = strcmp(o->mode, "gso") == 0;
    if (!gso && strcmp(o->mode, "mmsg") != 0)
        usage();
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    /* The same request as the Java sender (capped at net.core.wmem_max). */
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    if (gso) {
        int seg = o->size;
        if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) != 0)
            die("setsockopt UDP_SEGMENT");
    }
    size_t total = (size_t)o->size * o->batch;
    char *payload = calloc(1, total);
    struct mmsghdr msgs[TX_MAX_BATCH];
    struct iovec iovs[TX_MAX_BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < o->batch; i++) {
        iovs[i].iov_base = payload + (size_t)i * o->size;
        iovs[i].iov_len = o->size;
        msgs[i].msg_hdr.msg_name = &ss;
        msgs[i].msg_hdr.msg_namelen = len;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    struct iovec whole = {payload, total};
    struct msghdr one = {0};
    one.msg_name = &ss;
    one.msg_namelen = len;
    one.msg_iov = &whole;
    one.msg_iovlen = 1;

    uint64_t bytes = 0, datagrams = 0, syscalls = 0;
    struct snapshot begin, start = {0}, end = {0};
    take(&begin, 0, 0, 0);
    double warm = begin.time + o->warmup, stop_measure = warm + o->window, stop = stop_measure + o->tail;
    int phase = 0; /* 0 warm-up, 1 measuring, 2 tail */
    for (;;) {
        double t = now();
        if (phase == 0 && t >= warm) {
            take(&start, bytes, datagrams, syscalls);
            phase = 1;
        }
        if (phase == 1 && t >= stop_measure) {
            take(&end, bytes, datagrams, syscalls);
            phase = 2;
        }
        if (t >= stop || (phase == 2 && stop_requested))
            break;
        if (gso) {
            ssize_t r = sendmsg(fd, &one, 0);
            syscalls++;
            if (r < 0) {
                if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
                    continue;
                die("sendmsg UDP_SEGMENT");
            }
            bytes += r;
            datagrams += o->batch;
        } else {
            int off = 0;
            while (off < o->batch) {
                int r = sendmmsg(fd, msgs + off, o->batch - off, 0);
                syscalls++;
                if (r < 0) {
                    if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
                        continue;
                    die("sendmmsg");
                }
                off += r;
                bytes += (uint64_t)r * o->size;
                datagrams += r;
            }
        }
    }
    print_result(&start, &end);
    return 0;
}

static void parse(int argc, char **argv, struct options *o)
{
    if (argc < 2)
        usage();
    memset(o, 0, sizeof(*o));
    o->role = argv[1];
    o->addr = "127.0.0.1";
    o->mode = "mmsg";
    o->size = 1400;
    o->batch = 46;
    o->warmup = 0.5;
    o->window = 1.0;
    o->tail = 0.2;
    o->timeout = 5.0;
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--bind") || !strcmp(k, "--dst"))
            o->addr = v;
        else if (!strcmp(k, "--port"))
            o->port = atoi(v);
        else if (!strcmp(k, "--gro"))
            o->gro = atoi(v);
        else if (!strcmp(k, "--mode"))
            o->mode = v;
        else if (!strcmp(k, "--size"))
            o->size = atoi(v);
        else if (!strcmp(k, "--batch"))
            o->batch = atoi(v);
        else if (!strcmp(k, "--warmup"))
            o->warmup = atof(v);
        else if (!strcmp(k, "--window"))
            o->window = atof(v);
        else if (!strcmp(k, "--tail"))
            o->tail = atof(v);
        else if (!strcmp(k, "--timeout"))
            o->timeout = atof(v);
        else
            usage();
    }
}

int main(int argc, char **argv)
{
    struct options o;
    parse(argc, argv, &o);
    if (!strcmp(o.role, "rx"))
        return run_rx(&o);
    if (!strcmp(o.role, "tx"))
        return run_tx(&o);
    usage();
    return 2;
}
