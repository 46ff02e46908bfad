/* LD_PRELOAD shim for the auth benchmark (bench/bench.py, W4): every IPv4 TCP connect() to
 * 127.0.0.1 is made from a different loopback source address (127.64.0.1, 127.64.0.2, ...),
 * so the server sees each new connection as a different client IP. The server rate-limits
 * password grants per client IP (30 per 5 minutes, in-process, not configurable) and takes the
 * IP from the socket peer, not from X-Forwarded-For; without this every wrk connection would
 * share the 127.0.0.1 bucket and W4 would measure 429s. Together with `Connection: close` on
 * every request (bench/bench.py writes the wrk script), each grant comes from a fresh address.
 *
 * Build: cc -shared -fPIC -O2 -o loopback_source.so loopback_source.c -ldl
 * Linux only (any 127.0.0.0/8 address is local on lo).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

static unsigned int counter;

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    static connect_fn real_connect;
    if (!real_connect)
        real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
    if (addr && addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *dst = (const struct sockaddr_in *)addr;
        if (dst->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
            /* 127.64.0.1 .. 127.127.255.254: 4 million addresses before wrapping. */
            unsigned int n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) % 0x3ffffe;
            struct sockaddr_in src;
            memset(&src, 0, sizeof src);
            src.sin_family = AF_INET;
            src.sin_port = 0;
            src.sin_addr.s_addr = htonl(0x7f400001u + n);
            /* Best effort: if bind fails the connection comes from 127.0.0.1 as usual. */
            bind(fd, (const struct sockaddr *)&src, sizeof src);
        }
    }
    return real_connect(fd, addr, len);
}
