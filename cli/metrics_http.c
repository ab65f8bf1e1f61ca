/*
 * metrics_http.c - the latest sample of `memwall watch` for Prometheus
 * (issue #16; docs/CLUSTER.md, "Prometheus metrics").
 *
 * The watcher's thread copies each sample in (mw_metrics_live_update);
 * libmicrohttpd's own thread formats the copy when /metrics is scraped
 * (mw_metrics_format), under one mutex. The listening socket is memwall's
 * own, bound before the command starts, so a port in use is an error that
 * names errno's reason and the command never runs; libmicrohttpd is given
 * the socket (MHD_OPTION_LISTEN_SOCKET). Built without libmicrohttpd
 * (MW_HAVE_MHD undefined), --metrics-port says so; --metrics-file needs no
 * library.
 */
#include "metrics_http.h"
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef MW_HAVE_MHD
#include <microhttpd.h>
#if MHD_VERSION < 0x00097002
typedef int mw_mhd_result; /* before enum MHD_Result (0.9.71) */
#else
typedef enum MHD_Result mw_mhd_result;
#endif
#endif

#define FILE_MIN_SECONDS 1.0 /* --metrics-file: at most once a second */

struct mw_metrics_live {
    pthread_mutex_t lock;
    mw_metrics_info info;
    char command[256], host[256];
    mw_sample last;               /* its arrays point into ours */
    int have_sample;
    mw_proc_sample *procs;
    size_t procs_cap;
    mw_gpu_device_sample *gpu;
    size_t gpu_cap;
    char *text;                   /* formatting scratch */
    size_t text_cap;
#ifdef MW_HAVE_MHD
    struct MHD_Daemon *daemon;
#endif
    const char *file;             /* --metrics-file, or NULL */
    char *file_tmp;
    double next_file;             /* monotonic seconds */
    int file_failed;
};

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

mw_metrics_live *mw_metrics_live_new(const mw_metrics_info *info)
{
    mw_metrics_live *m = mw_calloc(1, sizeof *m, MW_MEM_OTHER);
    if (!m) return NULL;
    pthread_mutex_init(&m->lock, NULL);
    snprintf(m->command, sizeof m->command, "%s", info->command ? info->command : "");
    snprintf(m->host, sizeof m->host, "%s", info->host ? info->host : "");
    m->info = *info;
    m->info.command = m->command;
    m->info.host = m->host;
    m->info.up = 1;
    return m;
}

/* The text of the kept sample into m->text (lock held); its length, or
 * -1 when out of memory. Before the first sample: memwall_up alone. */
static long format_locked(mw_metrics_live *m)
{
    mw_sample none;
    memset(&none, 0, sizeof none);
    none.t_seconds = -1;
    none.psi_some_seconds = none.psi_full_seconds = -1;
    none.rss_bytes = none.rss_anon_bytes = none.rss_file_bytes = none.rss_shmem_bytes = MW_UNKNOWN;
    none.swap_bytes = none.pss_bytes = none.cgroup_bytes = none.cgroup_limit_bytes = MW_UNKNOWN;
    none.gpu_bytes = none.gpu_device_used_bytes = none.peak_rss_bytes = MW_UNKNOWN;
    none.minor_faults = none.major_faults = none.minor_faults_total = none.major_faults_total = MW_UNKNOWN;
    const mw_sample *s = m->have_sample ? &m->last : &none;
    for (;;) {
        size_t n = mw_metrics_format(s, &m->info, m->text, m->text_cap);
        if (n < m->text_cap) return (long)n;
        size_t cap = n + 4096;
        char *t = mw_realloc(m->text, cap, MW_MEM_OTHER);
        if (!t) return -1;
        m->text = t;
        m->text_cap = cap;
    }
}

/* ---- --metrics-file --------------------------------------------------------- */

void mw_metrics_live_file(mw_metrics_live *m, const char *path)
{
    m->file = path;
    size_t cap = strlen(path) + 32;
    m->file_tmp = mw_malloc(cap, MW_MEM_OTHER);
    if (m->file_tmp) snprintf(m->file_tmp, cap, "%s.tmp.%d", path, (int)getpid());
}

/* Writes the text to the file: whole into FILE.tmp.PID, then renamed over
 * FILE, so the collector never reads half a file. A failure warns once;
 * the run goes on. Lock held. */
static void write_file_locked(mw_metrics_live *m)
{
    if (!m->file || m->file_failed) return;
    const char *why = NULL;
    int errnum = 0;
    long n = format_locked(m);
    if (n < 0 || !m->file_tmp) {
        why = "out of memory";
    } else {
        FILE *f = fopen(m->file_tmp, "we");
        if (!f) {
            errnum = errno;
            why = "cannot create";
        } else {
            size_t put = fwrite(m->text, 1, (size_t)n, f);
            int bad = put != (size_t)n || fflush(f) != 0;
            if (bad) errnum = errno;
            if (fclose(f) != 0 && !bad) {
                bad = 1;
                errnum = errno;
            }
            if (bad) {
                why = "cannot write";
                unlink(m->file_tmp);
            } else if (rename(m->file_tmp, m->file) != 0) {
                errnum = errno;
                why = "cannot rename it to";
                unlink(m->file_tmp);
            }
        }
    }
    if (why) {
        m->file_failed = 1;
        char shown[512];
        const char *target = !strcmp(why, "cannot rename it to") ? m->file : m->file_tmp ? m->file_tmp : m->file;
        snprintf(shown, sizeof shown, "%s", target);
        fprintf(stderr, "\r\033[Kmemwall: --metrics-file: %s %s%s%s; no more metrics files, the run goes on\n",
                why, shown, errnum ? ": " : "", errnum ? strerror(errnum) : "");
    }
}

/* ---- the samples ------------------------------------------------------------ */

void mw_metrics_live_update(mw_metrics_live *m, const mw_sample *s)
{
    pthread_mutex_lock(&m->lock);
    m->last = *s;
    m->have_sample = 1;
    /* the arrays live only during the callback: copied into ours, which
     * grow with the tree and are reused */
    if (s->nprocs > m->procs_cap) {
        size_t cap = m->procs_cap ? m->procs_cap : 16;
        while (cap < s->nprocs) cap *= 2;
        mw_proc_sample *p = mw_realloc(m->procs, cap * sizeof *p, MW_MEM_OTHER);
        if (p) {
            m->procs = p;
            m->procs_cap = cap;
        }
    }
    if (s->gpu_devices > m->gpu_cap) {
        mw_gpu_device_sample *g = mw_realloc(m->gpu, s->gpu_devices * sizeof *g, MW_MEM_OTHER);
        if (g) {
            m->gpu = g;
            m->gpu_cap = s->gpu_devices;
        }
    }
    m->last.nprocs = s->nprocs <= m->procs_cap ? s->nprocs : (uint32_t)m->procs_cap;
    if (m->last.nprocs) memcpy(m->procs, s->procs, m->last.nprocs * sizeof *m->procs);
    m->last.procs = m->procs;
    m->last.gpu_devices = s->gpu_devices <= m->gpu_cap ? s->gpu_devices : (uint32_t)m->gpu_cap;
    if (m->last.gpu_devices) memcpy(m->gpu, s->gpu, m->last.gpu_devices * sizeof *m->gpu);
    m->last.gpu = m->gpu;
    if (m->file) {
        double t = now_seconds();
        if (t >= m->next_file) {
            m->next_file = t + FILE_MIN_SECONDS;
            write_file_locked(m);
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void mw_metrics_live_end(mw_metrics_live *m)
{
    pthread_mutex_lock(&m->lock);
    m->info.up = 0;
    write_file_locked(m);
    pthread_mutex_unlock(&m->lock);
}

/* ---- --metrics-port ----------------------------------------------------------- */

/* "[ADDR:]PORT" into addr (empty: every interface) and port; 0 when it is
 * no such thing. */
static int parse_spec(const char *spec, char *addr, size_t cap, unsigned *port)
{
    const char *p = spec;
    addr[0] = '\0';
    if (*spec == '[') { /* [IPv6]:PORT */
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= cap) return 0;
        snprintf(addr, cap, "%.*s", (int)(close - spec - 1), spec + 1);
        p = close + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon) {
            if ((size_t)(colon - spec) >= cap || colon == spec) return 0;
            snprintf(addr, cap, "%.*s", (int)(colon - spec), spec);
            p = colon + 1;
        }
    }
    if (!*p || strlen(p) > 5) return 0;
    unsigned v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v < 1 || v > 65535) return 0;
    *port = v;
    return 1;
}

#ifdef MW_HAVE_MHD
static mw_mhd_result reply(struct MHD_Connection *c, unsigned code, const char *type, const char *body,
                           size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(r, "Allow", "GET, HEAD");
    mw_mhd_result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

static mw_mhd_result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;
    mw_metrics_live *m = cls;
    static const char plain[] = "text/plain; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "memwall serves GET /metrics only\n";
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, plain, msg, sizeof msg - 1);
    }
    if (strcmp(url, "/metrics") != 0) {
        static const char msg[] = "not found: memwall serves /metrics\n";
        return reply(c, MHD_HTTP_NOT_FOUND, plain, msg, sizeof msg - 1);
    }
    pthread_mutex_lock(&m->lock);
    long n = format_locked(m);
    mw_mhd_result ok;
    if (n < 0) {
        static const char msg[] = "memwall: out of memory\n";
        ok = reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, plain, msg, sizeof msg - 1);
    } else {
        /* the exposition format's own content type (version 0.0.4) */
        ok = reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", m->text, (size_t)n);
    }
    pthread_mutex_unlock(&m->lock);
    return ok;
}
#endif

int mw_metrics_live_serve(mw_metrics_live *m, const char *spec, char *msg, size_t cap)
{
    char addr[256];
    unsigned port = 0;
    if (!parse_spec(spec, addr, sizeof addr, &port)) {
        snprintf(msg, cap, "--metrics-port needs [ADDR:]PORT, a port from 1 to 65535 (9101, 127.0.0.1:9101), not '%s'",
                 spec);
        return MW_EXIT_USAGE;
    }
#ifndef MW_HAVE_MHD
    (void)m;
    snprintf(msg, cap, "--metrics-port: memwall was built without libmicrohttpd: install libmicrohttpd-dev and rebuild");
    return MW_EXIT_WRAPPER_FAILURE;
#else
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    hints.ai_family = addr[0] ? AF_UNSPEC : AF_INET6; /* every interface: IPv6 and IPv4 */
    char portbuf[8];
    snprintf(portbuf, sizeof portbuf, "%u", port);
    int fd = -1, errnum = 0;
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        if (attempt == 1) {
            if (addr[0] || (errnum != EAFNOSUPPORT && errnum != EADDRNOTAVAIL)) break;
            hints.ai_family = AF_INET; /* a host without IPv6 */
        }
        int gai = getaddrinfo(addr[0] ? addr : NULL, portbuf, &hints, &ai);
        if (gai != 0) {
            snprintf(msg, cap, "--metrics-port %s: %s: %s", spec, addr[0] ? addr : "*", gai_strerror(gai));
            return MW_EXIT_WRAPPER_FAILURE;
        }
        for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
            int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
            if (s < 0) {
                errnum = errno;
                continue;
            }
            int one = 1, zero = 0;
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (a->ai_family == AF_INET6 && !addr[0]) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
            if (bind(s, a->ai_addr, a->ai_addrlen) != 0 || listen(s, 64) != 0) {
                errnum = errno;
                close(s);
                continue;
            }
            fd = s;
        }
        freeaddrinfo(ai);
        ai = NULL;
    }
    if (fd < 0) {
        if (errnum == EADDRINUSE)
            snprintf(msg, cap, "--metrics-port %s: address already in use: pick another port", spec);
        else
            snprintf(msg, cap, "--metrics-port %s: cannot listen: %s", spec, strerror(errnum));
        return MW_EXIT_WRAPPER_FAILURE;
    }
    /* The server's thread must never take the signals mw_watch_run reads
     * through its signalfd (SIGCHLD above all: delivered to a thread that
     * does not block it, it is lost, and the root's exit with it): the
     * thread inherits a mask that blocks them. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    m->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_request, m,
                                 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                                 MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!m->daemon) {
        close(fd);
        snprintf(msg, cap, "--metrics-port %s: libmicrohttpd could not start its server", spec);
        return MW_EXIT_WRAPPER_FAILURE;
    }
    return 0;
#endif
}

void mw_metrics_live_free(mw_metrics_live *m)
{
    if (!m) return;
#ifdef MW_HAVE_MHD
    if (m->daemon) MHD_stop_daemon(m->daemon); /* closes the socket */
#endif
    pthread_mutex_destroy(&m->lock);
    mw_free(m->procs);
    mw_free(m->gpu);
    mw_free(m->text);
    mw_free(m->file_tmp);
    mw_free(m);
}
