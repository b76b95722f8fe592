// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-exporter: the vfioscope metrics (docs/metrics.md) for Prometheus,
 * served on GET /metrics in the text exposition format 0.0.4.
 *
 * HTTP is libmicrohttpd's: the daemon holds BPF privileges, and the code
 * that parses what comes from the network should be a maintained
 * library's, not ours.  It runs in MHD's external mode inside our one
 * ppoll() loop, with the BPF ring buffer: one thread, all non-blocking.
 * Requests are bounded (size, deadline), responses too (deadline); at most
 * MAX_CONNS clients at once, the oldest unfinished request evicted when a
 * new client comes.  So a client that never sends, or never reads, costs
 * one slot until its deadline and delays neither other scrapes nor the
 * ring buffer.
 *
 * The numbers come from the collector (bpf/vfio-collector.bpf.c), which
 * the exporter loads and pins under COLLECTOR_PIN_DIR: it is the host's
 * one collector, that vfio-top reads rather than load its own, and a
 * second exporter on the host refuses to start.
 */
#define _GNU_SOURCE		/* ppoll */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "collector.h"
#include "common.h"
#include "exporter.h"
#include "vfio_tools.h"

#define TOOL "vfio-exporter"

enum { OPT_NO_ATTACH = 0x2000 };

static struct env {
	struct common_env c;		/* -v and --attach only */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char listen[128];
	double stale_after;		/* seconds */
	double retain;			/* seconds */
	long max_refs;
	bool no_attach;
} env = {
	.listen = "127.0.0.1:9707",
	.stale_after = 300,
	.retain = 300,
	.max_refs = 65536,
};

const char *argp_program_version = "vfio-exporter (vfioscope) " VFIOSCOPE_VERSION;
static const char doc[] =
"Serve vfioscope's VFIO metrics to Prometheus on GET /metrics.\n"
"\n"
"USAGE: vfio-exporter [-h] [-l ADDR:PORT] [-s SECONDS] [-r SECONDS] [-m MAX]\n"
"                     [-v] [--attach MODE] [--no-attach]\n"
"\n"
"DMA operations, bytes and latency histograms by container and outcome,\n"
"bytes mapped, pages pinned and DMA entries per container, live objects,\n"
"external users per group, references held for --stale-after seconds or\n"
"more, and lost events; the names are docs/metrics.md's.  Listens on\n"
"loopback by default.  SIGTERM or SIGINT stop it (exit 0).\n"
"\n"
"Counters never go back while served.  A released container's series stay,\n"
"with their final values, for --retain seconds after its release (a\n"
"container that reuses the id meanwhile adds to them), so that every scrape\n"
"in that time sees them, however short the container lived.  Then they go,\n"
"and their counts move to the series with container=\"released\": sums over\n"
"all containers never drop.  Leave container=\"released\" out of rate():\n"
"what it gains was counted already, by the series that went.  Scrapes change\n"
"nothing: two scrapers see the same numbers.\n"
"\n"
"The exporter loads the host's collector (the BPF programs and their maps)\n"
"and pins it under " COLLECTOR_PIN_DIR ", where vfio-top finds it: one\n"
"exporter per host, a second one exits (status 1) naming the first.  Its\n"
"counters start at 0 when it starts.\n"
"\n"
"Exit status: 0 when SIGTERM or SIGINT stopped it, 1 when it failed (a line\n"
"on standard error says why), 64 for a bad option or argument.\n"
"\n"
"EXAMPLES:\n"
"    vfio-exporter                      # on 127.0.0.1:9707\n"
"    vfio-exporter -l [::1]:9707        # IPv6 loopback\n"
"    vfio-exporter -l 0.0.0.0:9707      # every IPv4 address (beware)\n"
"    vfio-exporter -s 60 -v             # stale after a minute; say how it attached\n"
"    vfio-exporter -r 900               # keep released series 15 min\n"
"    curl -s 127.0.0.1:9707/metrics     # what Prometheus scrapes\n";

static const struct argp_option opts[] = {
	{ "listen", 'l', "ADDR:PORT", 0, "Listen there (default 127.0.0.1:9707; IPv6 as [::1]:9707)", 0 },
	{ "stale-after", 's', "SECONDS", 0, "A reference held this long is stale (default 300)", 0 },
	{ "retain", 'r', "SECONDS", 0,
	  "Serve a released container's series this long after its release (default 300)", 0 },
	{ "max-refs", 'm', "MAX", 0, "Remember at most MAX outstanding gets (default 65536)", 0 },
	{ "verbose", 'v', NULL, 0, "Say how the exporter attached; libbpf debug output", 0 },
	{ "attach", COMMON_OPT_ATTACH, "MODE", 0,
	  "Attach in MODE, tp_btf, raw_tp or fentry; or auto (the default): detect", 0 },
	COMMON_OPTION_BTF,
	{ "no-attach", OPT_NO_ATTACH, NULL, 0,
	  "Load no BPF: serve build info, settings and the unseen gauge only (for testing the daemon without VFIO)", 0 },
	COMMON_OPTION_HELP,
	{},
};

/* "127.0.0.1:9707" or "[::1]:9707": numeric addresses only, no DNS. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon, *port_s;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, close - s - 1);
		host[close - s - 1] = '\0';
		port_s = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, colon - s);
		host[colon - s] = '\0';
		port_s = colon + 1;
	}
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (errno || end == port_s || *end || port < 1 || port > 65535)
		return -EINVAL;
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof(*a);
	}
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	char *end;

	errno = 0;
	switch (key) {
	case 'l':
		if (parse_listen(arg, &env.addr, &env.addr_len))
			argp_error(state, "invalid listen address: %s (want IPV4:PORT or [IPV6]:PORT)", arg);
		snprintf(env.listen, sizeof(env.listen), "%s", arg);
		break;
	case 's':
		env.stale_after = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(env.stale_after) ||
		    env.stale_after < 0 || env.stale_after > 1e9)
			argp_error(state, "invalid stale-after: %s", arg);
		break;
	case 'r':
		env.retain = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(env.retain) ||
		    env.retain < 0 || env.retain > 1e9)
			argp_error(state, "invalid retain: %s", arg);
		break;
	case 'm':
		env.max_refs = strtol(arg, &end, 10);
		if (errno || end == arg || *end || env.max_refs < 1)
			argp_error(state, "invalid max: %s", arg);
		break;
	case 'v':
		env.c.verbose = true;
		break;
	case COMMON_OPT_ATTACH:
		if (attach_parse_mode(arg, &env.c.attach))
			argp_error(state, "unknown attach mode: %s (tp_btf, raw_tp, fentry, auto)", arg);
		break;
	case 'h':
	case COMMON_OPT_BTF:
		return common_parse_opt(key, arg, state, &env.c);
	case OPT_NO_ATTACH:
		env.no_attach = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument: %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- HTTP ---------------------------------------------------------------------- */

/*
 * libmicrohttpd (MHD) parses the requests and writes the responses; what
 * stays here is policy: which paths, how long a client may take, how many
 * at once.  MHD runs in its "external" epoll mode, driven by serve(), so
 * its callbacks, and with them the rendering, run in the one thread that
 * also drains the ring buffer and moves the expired series: the
 * exporter's state needs no lock, and a signal ends the one ppoll() that
 * everything waits in.
 */

#define MAX_CONNS		32		/* clients served at once */
/*
 * MHD's own cap.  Past MAX_CONNS a newcomer evicts the oldest client still
 * sending its request (conn_evict()); MHD closes the evicted one on its
 * next round, and the margin holds them until then.  At its cap MHD would
 * leave newcomers in the listen backlog, so it must not be what limits.
 */
#define MHD_CONNS		(2 * MAX_CONNS)
/*
 * MHD's memory per connection: the request line and headers, and the
 * response headers.  A request that does not fit is answered 431 (or
 * 414 for a long target).  Prometheus's requests are ~300 bytes.
 */
#define CONN_MEM		8192
#define READ_TIMEOUT_MS		5000		/* from accept to the end of the headers */
#define WRITE_TIMEOUT_MS	10000		/* for the whole response */

#define TEXT_TYPE		"text/plain; charset=utf-8"
#define METRICS_TYPE		"text/plain; version=0.0.4; charset=utf-8"

/*
 * What MHD does not keep for us: since when a client waits and whether its
 * request came, for the deadlines and the eviction.  One per connection MHD
 * holds, as its socket_context.
 */
struct conn {
	struct MHD_Connection *mc;	/* NULL: a free slot */
	int fd;				/* MHD's socket: only ever shut down here */
	__u64 seq;			/* accept order, for eviction */
	__u64 deadline;			/* ms */
	bool answered;			/* its request came in */
	bool shut;			/* evicted or late: MHD closes it next round */
};

struct server {
	int listen_fd;			/* ours until MHD takes it */
	struct MHD_Daemon *httpd;
	struct conn conns[MHD_CONNS];
	int active;			/* tracked and not shut */
	struct exporter *ex;
	struct ring_buffer *rb;
	__u64 accepted;			/* connections so far */
	__u64 collected;		/* ms, the last exporter__collect() */
	bool serving;			/* MHD started: its messages are about clients */
};

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int listen_on(const struct sockaddr_storage *addr, socklen_t len)
{
	int fd, one = 1;

	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A restart must not wait out the old connections' TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, len) || listen(fd, 64)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * MHD has no call that closes a connection, but the socket is a socket:
 * shut it down (never close it, the fd stays MHD's until its close
 * notification), and MHD's next read or write on it ends the connection
 * as if the client had gone.
 */
static void conn_shut(struct server *s, struct conn *c)
{
	if (c->shut)
		return;
	if (c->fd < 0 || shutdown(c->fd, SHUT_RDWR))
		/* Not expected; the soonest MHD closes it otherwise. */
		MHD_set_connection_option(c->mc, MHD_CONNECTION_OPTION_TIMEOUT, 1U);
	c->shut = true;
	s->active--;
}

/*
 * Room for a newcomer: the oldest client still sending its request goes,
 * or, when every other one is being answered, the newcomer (it comes back
 * later).  So clients that connect and say nothing cannot keep a scrape out.
 */
static void conn_evict(struct server *s, struct conn *newcomer)
{
	struct conn *oldest = NULL;
	int i;

	for (i = 0; i < MHD_CONNS; i++) {
		struct conn *c = &s->conns[i];

		if (!c->mc || c->shut || c->answered || c == newcomer)
			continue;
		if (!oldest || c->seq < oldest->seq)
			oldest = c;
	}
	conn_shut(s, oldest ? oldest : newcomer);
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c = *socket_ctx;
	int i;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c) {
			if (!c->shut)
				s->active--;
			c->mc = NULL;
		}
		return;
	}
	for (i = 0; i < MHD_CONNS && s->conns[i].mc; i++)
		;
	if (i == MHD_CONNS)	/* MHD admits no more than MHD_CONNS */
		return;
	c = &s->conns[i];
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	*c = (struct conn){
		.mc = mc,
		.fd = ci ? ci->connect_fd : -1,
		.seq = ++s->accepted,
		.deadline = now_ms() + READ_TIMEOUT_MS,
	};
	*socket_ctx = c;
	if (++s->active > MAX_CONNS)
		conn_evict(s, c);
}

/*
 * MHD's timeouts count from a client's last activity: one that trickles a
 * byte now and then would never meet them.  The deadlines count from the
 * accept and from the request.  Returns the ms until the next one.
 */
static __u64 conns_sweep(struct server *s, __u64 now)
{
	__u64 next = UINT64_MAX;
	int i;

	for (i = 0; i < MHD_CONNS; i++) {
		struct conn *c = &s->conns[i];

		if (!c->mc || c->shut)
			continue;
		if (c->deadline <= now)
			conn_shut(s, c);	/* too slow: its slot is worth more */
		else if (c->deadline - now < next)
			next = c->deadline - now;
	}
	return next;
}

/*
 * Queue r (our reference dropped: MHD keeps its own until it is sent).
 * Every response closes its connection, as the hand-written server did: a
 * connection is then one request, which is what the deadlines and the
 * eviction count, and a scrape a second costs one accept.
 */
static enum MHD_Result reply(struct MHD_Connection *mc, unsigned int code, const char *type,
			     struct MHD_Response *r)
{
	enum MHD_Result ret = MHD_NO;

	if (!r)
		return MHD_NO;		/* out of memory: MHD drops the connection */
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES)
		ret = MHD_queue_response(mc, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* A constant text: MHD sends it from our memory, which outlives the daemon. */
static struct MHD_Response *text(const char *t)
{
	return MHD_create_response_from_buffer(strlen(t), (void *)t, MHD_RESPMEM_PERSISTENT);
}

static const char landing[] =
"vfio-exporter: VFIO metrics of vfioscope\n"
"GET /metrics for the Prometheus text format (docs/metrics.md)\n";

static enum MHD_Result reply_metrics(struct server *s, struct MHD_Connection *mc)
{
	struct strbuf page = {};
	struct MHD_Response *r;
	int err;

	/* What the ring buffer holds now counts in this scrape. */
	if (s->rb)
		ring_buffer__consume(s->rb);
	err = exporter__render(s->ex, &page, monotonic_ns());
	if (err) {
		strbuf_free(&page);
		fprintf(stderr, "%s: failed to render the metrics: %s\n", TOOL, strerror(-err));
		return reply(mc, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT_TYPE,
			     text("failed to read the BPF maps\n"));
	}
	/*
	 * Each response owns its page (MHD frees it): one scrape may still be
	 * going out while the next is rendered, so they cannot share a buffer,
	 * and each gets the whole page of one instant.
	 */
	r = MHD_create_response_from_buffer(page.len, page.buf, MHD_RESPMEM_MUST_FREE);
	if (!r)
		strbuf_free(&page);
	return reply(mc, MHD_HTTP_OK, METRICS_TYPE, r);
}

/*
 * A request whose headers are in; url is its path, the query string cut
 * off by MHD.  The headers do not matter.  HEAD gets GET's headers without
 * the body: MHD leaves the body out.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req_ctx)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct MHD_Response *r;
	struct conn *c;

	/* Called again for a body: answered already, the body is ignored. */
	if (*req_ctx) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	*req_ctx = s;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c = ci ? ci->socket_context : NULL;
	if (c && !c->answered) {
		c->answered = true;
		c->deadline = now_ms() + WRITE_TIMEOUT_MS;
		/* MHD's idle timeout, a backstop to the deadline, in seconds. */
		MHD_set_connection_option(mc, MHD_CONNECTION_OPTION_TIMEOUT,
					  (unsigned int)(WRITE_TIMEOUT_MS / 1000));
	}

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		r = text("only GET and HEAD\n");
		if (r && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
			MHD_destroy_response(r);
			r = NULL;
		}
		return reply(mc, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT_TYPE, r);
	}
	if (!strcmp(url, "/"))
		return reply(mc, MHD_HTTP_OK, TEXT_TYPE, text(landing));
	if (strcmp(url, "/metrics"))
		return reply(mc, MHD_HTTP_NOT_FOUND, TEXT_TYPE, text("not found: try /metrics\n"));
	return reply_metrics(s, mc);
}

/*
 * MHD's messages: at start-up they say why it could not start; once
 * serving they are about clients (a malformed request, a reset), and a
 * client could fill the log with them, so they show only with -v.
 */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct server *s = cls;

	if (s->serving && !env.c.verbose)
		return;
	fprintf(stderr, "%s: http: ", TOOL);
	vfprintf(stderr, fmt, ap);
}

static int http_start(struct server *s)
{
	/*
	 * The listening socket is ours (listen_on()): bound before the BPF
	 * work, so that a busy port fails first and names its errno, and
	 * IPv6-only, so that [::]:PORT does not take IPv4 too.  SIGPIPE is
	 * ignored (main), so MHD need not guard its sends against it.
	 */
	s->httpd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				    on_request, s,
				    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
				    MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MHD_CONNS,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)(READ_TIMEOUT_MS / 1000),
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEM,
				    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
				    MHD_OPTION_END);
	if (!s->httpd) {
		fprintf(stderr, "%s: failed to start the HTTP server (libmicrohttpd %s)\n", TOOL,
			MHD_get_version());
		return -EINVAL;
	}
	s->listen_fd = -1;	/* MHD_stop_daemon() closes it */
	s->serving = true;
	return 0;
}

static int serve(struct server *s, const sigset_t *unblocked)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->httpd, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd pfds[2] = {
		{ .fd = di ? di->epoll_fd : -1, .events = POLLIN },
		{ .fd = s->rb ? ring_buffer__epoll_fd(s->rb) : -1, .events = POLLIN },
	};
	MHD_UNSIGNED_LONG_LONG mhd_wait;
	struct timespec ts;
	__u64 now, wait, due;

	if (pfds[0].fd < 0) {
		fprintf(stderr, "%s: libmicrohttpd gave no epoll fd\n", TOOL);
		return -EINVAL;
	}
	while (!exiting) {
		now = now_ms();
		wait = conns_sweep(s, now);
		due = s->collected + 1000;
		if ((due > now ? due - now : 0) < wait)
			wait = due > now ? due - now : 0;
		if (MHD_get_timeout(s->httpd, &mhd_wait) == MHD_YES && mhd_wait < wait)
			wait = mhd_wait;
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = wait % 1000 * 1000000;
		/* Signals are blocked but here: none can slip in before the wait. */
		if (ppoll(pfds, 2, &ts, unblocked) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll failed: %s\n", TOOL, strerror(errno));
			return -errno;
		}
		if (pfds[1].revents) {
			int err = ring_buffer__consume(s->rb);

			if (err < 0 && err != -EINTR) {
				fprintf(stderr, "%s: failed to read the ring buffer: %s\n",
					TOOL, strerror(-err));
				return err;
			}
		}
		/*
		 * Whether or not its fd woke us: MHD's timeouts are processed in
		 * MHD_run() too, which never blocks in this mode.
		 */
		if (MHD_run(s->httpd) != MHD_YES) {
			fprintf(stderr, "%s: the HTTP server failed\n", TOOL);
			return -EIO;
		}
		/*
		 * Expired series go whether or not anyone scrapes: retention
		 * is by time, not by scrapes.
		 */
		if (now_ms() - s->collected >= 1000) {
			int err = exporter__collect(s->ex, monotonic_ns());

			if (err)
				fprintf(stderr, "%s: failed to read the collector: %s\n",
					TOOL, strerror(-err));
			s->collected = now_ms();
		}
	}
	return 0;
}

/*
 * The host's collector: ours, pinned so that vfio-top reads it rather
 * than load its own.  Another one pinned and alive: one per host, so we
 * stop (-EBUSY, said here).  Pins impossible (no bpffs, no permission):
 * we serve from our collector unpinned, and the front ends load their own.
 * In fentry mode its in-tree container ids are the last exporter's, and
 * stay pinned for the next one when we exit.
 */
static int collector_start(struct collector **out)
{
	struct collector *c;
	pid_t owner = 0;
	int err;

	err = collector_load_pinnable(&c, &env.c, TOOL);
	if (err)
		return err;
	err = collector_pin(c, &owner);
	if (err == -EBUSY) {
		fprintf(stderr, "%s: another collector runs on this host (pid %d, pinned under %s); "
			"one per host\n", TOOL, (int)owner, COLLECTOR_PIN_DIR);
		collector_free(c);
		return err;
	}
	if (err)
		fprintf(stderr, "%s: warning: cannot pin the collector under %s: %s; serving "
			"unpinned (vfio-top will load its own)\n", TOOL, COLLECTOR_PIN_DIR,
			strerror(-err));
	else if (env.c.verbose)
		fprintf(stderr, "%s: collector pinned under %s\n", TOOL, COLLECTOR_PIN_DIR);
	*out = c;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_opt, .doc = doc };
	struct exporter_opts eo = {};
	struct collector *coll = NULL;
	struct server s = { .listen_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, unblocked;
	int err, mode = ATTACH_NONE;

	parse_listen(env.listen, &env.addr, &env.addr_len);
	/* A bad flag exits 64 (EX_USAGE) in there; an error returned is argp's own. */
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 1;
	common_set_libbpf_print(&env.c);

	/* Before any BPF work: a busy port is the most likely failure. */
	s.listen_fd = listen_on(&env.addr, env.addr_len);
	if (s.listen_fd < 0) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", TOOL, env.listen,
			strerror(-s.listen_fd));
		return 1;
	}

	if (!env.no_attach) {
		err = collector_start(&coll);
		if (err)
			goto cleanup;
		mode = coll->mode;
	} else if (env.c.verbose) {
		fprintf(stderr, "%s: --no-attach: no BPF, serving build info, settings and the "
			"unseen gauge only\n", TOOL);
	}
	eo.coll = coll;
	eo.stale_after_ns = env.stale_after * 1e9;
	eo.retain_ns = env.retain * 1e9;
	eo.max_refs = env.max_refs;
	eo.version = VFIOSCOPE_VERSION;
	s.ex = exporter__new(&eo);
	if (!s.ex) {
		err = -ENOMEM;
		fprintf(stderr, "%s: out of memory\n", TOOL);
		goto cleanup;
	}
	if (coll) {
		/* Reference events, for reftrack: the collector sends them while we read. */
		err = collector_want_refs(coll, true);
		if (err) {
			fprintf(stderr, "%s: failed to ask for reference events: %s\n", TOOL,
				strerror(-err));
			goto cleanup;
		}
		s.rb = ring_buffer__new(coll->events_fd, exporter__event, s.ex, NULL);
		if (!s.rb) {
			err = -errno;
			fprintf(stderr, "%s: failed to create the ring buffer: %s\n", TOOL, strerror(-err));
			goto cleanup;
		}
	}

	/* Blocked except inside ppoll(): a signal then ends the wait at once. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = http_start(&s);
	if (err)
		goto cleanup;
	/* On stderr: scripts wait for it to know the metrics are live. */
	fprintf(stderr, "Serving http://%s/metrics (attach %s, stale after %gs, retain %gs)... Ctrl-C to end.\n",
		env.listen, mode == ATTACH_NONE ? "none" : attach_mode_name(mode), env.stale_after,
		env.retain);
	err = serve(&s, &unblocked);
	if (!err && env.c.verbose)
		fprintf(stderr, "%s: stopping\n", TOOL);

cleanup:
	/* First: closing the connections calls on_connection(), which needs s. */
	if (s.httpd)
		MHD_stop_daemon(s.httpd);
	if (s.listen_fd >= 0)
		close(s.listen_fd);
	ring_buffer__free(s.rb);
	collector_free(coll);		/* unpinned first: readers see it gone */
	exporter__free(s.ex);
	return err ? 1 : 0;
}
