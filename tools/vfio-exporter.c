// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-exporter: the vfioscope metrics (docs/metrics.md) for Prometheus,
 * served on GET /metrics in the text exposition format 0.0.4.
 *
 * One thread, one poll loop: the listening socket, the BPF ring buffer and
 * every connection, all non-blocking.  A connection is read (bounded
 * request, deadline), answered (partial writes resumed on POLLOUT,
 * deadline), then drained and closed; at most MAX_CONNS at once, the
 * oldest unfinished request evicted when a new client comes.  So a client
 * that never sends, or never reads, costs one slot until its deadline and
 * delays neither other scrapes nor the ring buffer.
 */
#define _GNU_SOURCE		/* accept4, ppoll */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "exporter.h"
#include "vfio-exporter.skel.h"
#include "vfio_tools.h"

#define TOOL "vfio-exporter"
#ifndef VFIOSCOPE_VERSION
#define VFIOSCOPE_VERSION "0.1.0"
#endif

#define MAX_CONNS		32
#define REQ_MAX			8192		/* request line + headers */
#define READ_TIMEOUT_MS		5000		/* from accept to the end of the headers */
#define WRITE_TIMEOUT_MS	10000		/* for the whole response */
#define DRAIN_TIMEOUT_MS	1000		/* waiting for the client's close */

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
"external users per group, references held longer than --stale-after, and\n"
"lost events; the names are docs/metrics.md's.  Listens on loopback by\n"
"default.  SIGTERM or SIGINT stop it (exit 0).\n"
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
	{ "attach", COMMON_OPT_ATTACH, "MODE", 0, "Force tp_btf, raw_tp or fentry (default: detect)", 0 },
	{ "no-attach", OPT_NO_ATTACH, NULL, 0,
	  "Load no BPF: serve build info only (for testing the daemon without VFIO)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
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
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
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

/* ---- connections ------------------------------------------------------------- */

enum conn_state { CONN_FREE = 0, CONN_READING, CONN_WRITING, CONN_DRAINING };

struct conn {
	int fd;
	enum conn_state state;
	__u64 seq;			/* accept order, for eviction */
	__u64 deadline;			/* ms */
	char req[REQ_MAX + 1];		/* + NUL */
	size_t req_len;
	char *resp;
	size_t resp_len, resp_off;
};

struct server {
	int listen_fd;
	struct conn conns[MAX_CONNS];
	struct exporter *ex;
	struct ring_buffer *rb;
	struct strbuf body;
	__u64 accepted;			/* connections so far */
	__u64 collected;		/* ms, the last exporter__collect() */
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

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->resp);
	c->resp = NULL;
	c->state = CONN_FREE;
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

/* Take the response: headers, then the body unless HEAD. */
static void respond(struct conn *c, int code, const char *reason, const char *type,
		    const char *body, size_t body_len, bool head)
{
	struct strbuf r = {};

	strbuf_printf(&r, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Connection: close\r\n\r\n", code, reason, type, body_len);
	if (!head && !r.failed) {
		/* The body may hold NULs in theory: copy it, not printf it. */
		char *n = realloc(r.buf, r.len + body_len + 1);

		if (n) {
			memcpy(n + r.len, body, body_len);
			r.buf = n;
			r.len += body_len;
		} else {
			r.failed = true;
		}
	}
	if (r.failed) {
		strbuf_free(&r);
		c->resp = NULL;
		c->resp_len = 0;
	} else {
		c->resp = r.buf;
		c->resp_len = r.len;
	}
	c->resp_off = 0;
	c->state = CONN_WRITING;
	c->deadline = now_ms() + WRITE_TIMEOUT_MS;
}

static void respond_text(struct conn *c, int code, const char *reason, const char *text)
{
	respond(c, code, reason, "text/plain; charset=utf-8", text, strlen(text), false);
}

static const char landing[] =
"vfio-exporter: VFIO metrics of vfioscope\n"
"GET /metrics for the Prometheus text format (docs/metrics.md)\n";

/* A whole request is in: the request line decides, the headers do not matter. */
static void handle_request(struct server *s, struct conn *c)
{
	char method[16], target[256];
	bool head;
	char *q;
	int err;

	c->req[c->req_len] = '\0';
	if (sscanf(c->req, "%15s %255s HTTP/", method, target) != 2) {
		respond_text(c, 400, "Bad Request", "bad request\n");
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		respond_text(c, 405, "Method Not Allowed", "only GET and HEAD\n");
		return;
	}
	q = strchr(target, '?');
	if (q)
		*q = '\0';
	if (!strcmp(target, "/")) {
		respond(c, 200, "OK", "text/plain; charset=utf-8", landing, strlen(landing), head);
		return;
	}
	if (strcmp(target, "/metrics")) {
		respond_text(c, 404, "Not Found", "not found: try /metrics\n");
		return;
	}
	/* What the ring buffer holds now counts in this scrape. */
	if (s->rb)
		ring_buffer__consume(s->rb);
	err = exporter__render(s->ex, &s->body, monotonic_ns());
	if (err) {
		fprintf(stderr, "%s: failed to render the metrics: %s\n", TOOL, strerror(-err));
		respond_text(c, 500, "Internal Server Error", "failed to read the BPF maps\n");
		return;
	}
	respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", s->body.buf,
		s->body.len, head);
}

static void conn_read(struct server *s, struct conn *c)
{
	char *end;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, c->req + c->req_len, REQ_MAX - c->req_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {		/* closed or broken before a whole request */
			conn_close(c);
			return;
		}
		c->req_len += n;
		c->req[c->req_len] = '\0';
		end = strstr(c->req, "\r\n\r\n");
		if (!end)
			end = strstr(c->req, "\n\n");
		if (end) {
			handle_request(s, c);
			return;
		}
		if (c->req_len >= REQ_MAX) {
			respond_text(c, 431, "Request Header Fields Too Large", "request too large\n");
			return;
		}
	}
}

static void conn_write(struct conn *c)
{
	ssize_t n;

	while (c->resp_off < c->resp_len) {
		/* MSG_NOSIGNAL: a client gone is EPIPE here, not a SIGPIPE. */
		n = send(c->fd, c->resp + c->resp_off, c->resp_len - c->resp_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* the rest on POLLOUT */
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->resp_off += n;
	}
	/*
	 * All sent: say so, then wait for the client's close, so that
	 * closing with its unread bytes does not reset the connection under
	 * a response still in flight.
	 */
	free(c->resp);
	c->resp = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAINING;
	c->deadline = now_ms() + DRAIN_TIMEOUT_MS;
}

static void conn_drain(struct conn *c)
{
	char buf[512];
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(c);
		return;
	}
}

/* A free slot, or the oldest client still sending its request, evicted. */
static struct conn *conn_slot(struct server *s)
{
	struct conn *oldest = NULL;
	int i;

	for (i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &s->conns[i];

		if (c->state == CONN_FREE)
			return c;
		if (c->state != CONN_WRITING && (!oldest || c->seq < oldest->seq))
			oldest = c;
	}
	if (oldest)
		conn_close(oldest);
	return oldest;
}

static void accept_all(struct server *s)
{
	struct conn *c;
	int fd, i;

	/* Bounded: a flood of connections cannot starve the rest of the loop. */
	for (i = 0; i < MAX_CONNS; i++) {
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;		/* EAGAIN, or a client gone meanwhile */
		c = conn_slot(s);
		if (!c) {		/* every slot is writing: come back later */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = CONN_READING;
		c->req_len = 0;
		c->seq = ++s->accepted;
		c->deadline = now_ms() + READ_TIMEOUT_MS;
		/* Most requests are already there: answer without a poll round. */
		conn_read(s, c);
		if (c->state == CONN_WRITING)
			conn_write(c);
	}
}

static int serve(struct server *s, const sigset_t *unblocked)
{
	struct pollfd pfds[2 + MAX_CONNS];
	int idx[2 + MAX_CONNS];
	int n, i, rb_fd = s->rb ? ring_buffer__epoll_fd(s->rb) : -1;
	struct timespec ts;
	__u64 now, next;

	while (!exiting) {
		n = 0;
		pfds[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		if (rb_fd >= 0)
			pfds[n++] = (struct pollfd){ .fd = rb_fd, .events = POLLIN };
		now = now_ms();
		next = now + 1000;
		for (i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &s->conns[i];

			if (c->state == CONN_FREE)
				continue;
			if (c->deadline <= now) {
				conn_close(c);	/* too slow: its slot is worth more */
				continue;
			}
			if (c->deadline < next)
				next = c->deadline;
			idx[n] = i;
			pfds[n++] = (struct pollfd){
				.fd = c->fd,
				.events = c->state == CONN_WRITING ? POLLOUT : POLLIN,
			};
		}
		ts.tv_sec = (next - now) / 1000;
		ts.tv_nsec = (next - now) % 1000 * 1000000;
		/* Signals are blocked but here: none can slip in before the wait. */
		if (ppoll(pfds, n, &ts, unblocked) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll failed: %s\n", TOOL, strerror(errno));
			return -errno;
		}
		i = 1;
		if (rb_fd >= 0) {
			if (pfds[1].revents) {
				int err = ring_buffer__consume(s->rb);

				if (err < 0 && err != -EINTR) {
					fprintf(stderr, "%s: failed to read the ring buffer: %s\n",
						TOOL, strerror(-err));
					return err;
				}
			}
			i = 2;
		}
		for (; i < n; i++) {
			struct conn *c = &s->conns[idx[i]];

			if (!pfds[i].revents || c->state == CONN_FREE)
				continue;
			if (c->state == CONN_READING)
				conn_read(s, c);
			if (c->state == CONN_WRITING)
				conn_write(c);
			else if (c->state == CONN_DRAINING)
				conn_drain(c);
		}
		if (pfds[0].revents)
			accept_all(s);
		/*
		 * Released containers leave the BPF map whether or not anyone
		 * scrapes, which would otherwise fill up; retention is by time.
		 */
		if (now_ms() - s->collected >= 1000) {
			int err = exporter__collect(s->ex, monotonic_ns());

			if (err)
				fprintf(stderr, "%s: failed to collect the released containers: %s\n",
					TOOL, strerror(-err));
			s->collected = now_ms();
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_opt, .doc = doc };
	struct exporter_opts eo = {
		.containers_fd = -1, .released_fd = -1, .hists_fd = -1, .lost_fd = -1,
		.levels_fd = -1,
	};
	struct vfio_exporter *skel = NULL;
	struct server s = { .listen_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, unblocked;
	int err, mode = ATTACH_NONE, i;

	parse_listen(env.listen, &env.addr, &env.addr_len);
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	common_set_libbpf_print(&env.c);

	/* Before any BPF work: a busy port is the most likely failure. */
	s.listen_fd = listen_on(&env.addr, env.addr_len);
	if (s.listen_fd < 0) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", TOOL, env.listen,
			strerror(-s.listen_fd));
		return 1;
	}

	if (!env.no_attach) {
		skel = vfio_exporter__open();
		if (!skel) {
			fprintf(stderr, "%s: failed to open the BPF skeleton: %s\n", TOOL,
				strerror(errno));
			err = -errno;
			goto cleanup;
		}
		mode = common_choose_attach(skel->obj, &env.c, TOOL);
		if (mode < 0) {
			err = mode;
			goto cleanup;
		}
		if (mode == ATTACH_FENTRY) {
			skel->rodata->targ_dma_entry_limit = attach_intree_dma_entry_limit();
		}
		err = vfio_exporter__load(skel);
		if (err) {
			fprintf(stderr, "%s: failed to load the BPF programs: %s\n", TOOL, strerror(-err));
			goto cleanup;
		}
		eo.containers_fd = bpf_map__fd(skel->maps.containers);
		eo.released_fd = bpf_map__fd(skel->maps.released);
		eo.levels_fd = bpf_map__fd(skel->maps.dma_levels);
		eo.hists_fd = bpf_map__fd(skel->maps.hists);
		eo.lost_fd = bpf_map__fd(skel->maps.lost);
	} else if (env.c.verbose) {
		fprintf(stderr, "%s: --no-attach: no BPF, serving build info only\n", TOOL);
	}
	eo.mode = mode;
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
	if (skel) {
		s.rb = ring_buffer__new(bpf_map__fd(skel->maps.events), exporter__event, s.ex, NULL);
		if (!s.rb) {
			err = -errno;
			fprintf(stderr, "%s: failed to create the ring buffer: %s\n", TOOL, strerror(-err));
			goto cleanup;
		}
		err = vfio_exporter__attach(skel);
		if (err) {
			fprintf(stderr, "%s: failed to attach the BPF programs: %s\n", TOOL, strerror(-err));
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

	/* On stderr: scripts wait for it to know the metrics are live. */
	fprintf(stderr, "Serving http://%s/metrics (attach %s, stale after %gs, retain %gs)... Ctrl-C to end.\n",
		env.listen, mode == ATTACH_NONE ? "none" : attach_mode_name(mode), env.stale_after,
		env.retain);
	err = serve(&s, &unblocked);
	if (!err && env.c.verbose)
		fprintf(stderr, "%s: stopping\n", TOOL);

cleanup:
	for (i = 0; i < MAX_CONNS; i++)
		if (s.conns[i].state != CONN_FREE)
			conn_close(&s.conns[i]);
	if (s.listen_fd >= 0)
		close(s.listen_fd);
	ring_buffer__free(s.rb);
	vfio_exporter__destroy(skel);
	exporter__free(s.ex);
	strbuf_free(&s.body);
	return err ? 1 : 0;
}
