/*
 * weft CNI shim: the binary the container runtime executes as /opt/cni/bin/weft.
 *
 * It does no networking itself. It forwards the CNI request (the CNI_* environment
 * and the network config read from stdin) to the Weft agent over a unix socket,
 * prints the agent's answer on stdout and exits with the agent's exit code.
 * VERSION is answered here. When the agent cannot be reached, the shim answers
 * on its own: ADD/CHECK -> error 11 (try again later), STATUS -> error 50,
 * DEL and GC -> success with empty output (leftovers are reclaimed by GC).
 *
 * Socket path: the "socket" field at the top level of the network config,
 * default /run/weft/cni.sock.
 *
 * Wire format (protocol version 1), all lengths in decimal ASCII:
 *   request:  "WEFTCNI 1 <stdin-length>\n"
 *             then one "NAME=value\n" line per CNI_* variable that is set
 *             then an empty line "\n"
 *             then exactly <stdin-length> bytes: the config as read from stdin
 *   response: "WEFTCNI 1 <exit-code> <body-length>\n"
 *             then exactly <body-length> bytes, printed verbatim on stdout
 *
 * No dependencies beyond libc; built with -static (see build.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_STDIN (1024 * 1024)
#define MAX_REPLY (4 * 1024 * 1024)
#define DEFAULT_SOCKET "/run/weft/cni.sock"
#define CONNECT_TIMEOUT_MS 5000
#define TOTAL_TIMEOUT_MS 110000
#define SUPPORTED "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]"

static const char *const forwarded_env[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
                                            "CNI_ARGS", "CNI_PATH", NULL};

struct buf {
  char *data;
  size_t len;
  size_t cap;
};

static int buf_append(struct buf *b, const char *p, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes a CNI error object on stdout. msg and details must not need JSON escaping
 * beyond what json_puts does. */
static void json_puts(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
    } else if (c < 0x20) {
      printf("\\u%04x", c);
    } else {
      putchar(c);
    }
  }
  putchar('"');
}

static int print_error(const char *version, int code, const char *msg, const char *details) {
  printf("{\"cniVersion\":");
  json_puts(version);
  printf(",\"code\":%d,\"msg\":", code);
  json_puts(msg);
  printf(",\"details\":");
  json_puts(details);
  printf("}\n");
  fflush(stdout);
  return 1;
}

/*
 * Finds a string value of a top-level key in a JSON object. Tracks nesting and
 * string state so that keys inside prevResult or runtimeConfig never match.
 * Returns a malloc'd copy (simple escapes \" \\ \/ decoded) or NULL.
 */
static char *top_level_string(const char *json, size_t len, const char *key) {
  int depth = 0;
  size_t keylen = strlen(key);
  for (size_t i = 0; i < len; i++) {
    char c = json[i];
    if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      depth--;
    } else if (c == '"') {
      size_t start = i + 1, j = start;
      while (j < len && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
      if (j >= len) return NULL;
      size_t k = j + 1;
      while (k < len && (json[k] == ' ' || json[k] == '\t' || json[k] == '\n' || json[k] == '\r')) k++;
      int is_key = k < len && json[k] == ':';
      if (depth == 1 && is_key && j - start == keylen && memcmp(json + start, key, keylen) == 0) {
        k++;
        while (k < len && (json[k] == ' ' || json[k] == '\t' || json[k] == '\n' || json[k] == '\r')) k++;
        if (k >= len || json[k] != '"') return NULL;
        struct buf out = {0};
        for (k++; k < len && json[k] != '"'; k++) {
          char ch = json[k];
          if (ch == '\\' && k + 1 < len) {
            ch = json[++k];
            if (ch != '"' && ch != '\\' && ch != '/') {
              free(out.data);
              return NULL;
            }
          }
          if (buf_append(&out, &ch, 1) < 0) return NULL;
        }
        if (!out.data) buf_append(&out, "", 0);
        return out.data;
      }
      i = j;
    }
  }
  return NULL;
}

static int read_stdin(struct buf *in) {
  char chunk[65536];
  for (;;) {
    ssize_t n = read(0, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    if (in->len + (size_t)n > MAX_STDIN) return -2;
    if (buf_append(in, chunk, (size_t)n) < 0) return -1;
  }
}

/* Waits until fd is ready for `events` or the deadline passes. */
static int wait_fd(int fd, short events, long long deadline) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return -1;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    return 0;
  }
}

static int connect_agent(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return -1;
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
  if (errno == EINPROGRESS || errno == EAGAIN) {
    int err = 0;
    socklen_t len = sizeof err;
    if (wait_fd(fd, POLLOUT, now_ms() + CONNECT_TIMEOUT_MS) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
      return fd;
  }
  close(fd);
  return -1;
}

static int send_all(int fd, const char *p, size_t n, long long deadline) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLOUT, deadline) < 0) return -1;
      continue;
    }
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads the reply header and body. Returns the exit code, or -1 on any failure. */
static int read_reply(int fd, struct buf *reply, long long deadline) {
  char chunk[65536];
  for (;;) {
    char *nl = reply->data ? memchr(reply->data, '\n', reply->len) : NULL;
    if (nl) {
      int code;
      unsigned long body;
      if (sscanf(reply->data, "WEFTCNI 1 %d %lu", &code, &body) != 2 || body > MAX_REPLY) return -1;
      size_t header = (size_t)(nl - reply->data) + 1;
      if (reply->len - header >= body) {
        fwrite(reply->data + header, 1, body, stdout);
        fflush(stdout);
        return code;
      }
    }
    if (reply->len > MAX_REPLY + 64) return -1;
    if (wait_fd(fd, POLLIN, deadline) < 0) return -1;
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return -1;
    if (buf_append(reply, chunk, (size_t)n) < 0) return -1;
  }
}

static int answer_unreachable(const char *cmd, const char *version, const char *socket_path) {
  char details[512];
  snprintf(details, sizeof details, "no answer from the Weft agent on %s", socket_path);
  if (strcmp(cmd, "DEL") == 0 || strcmp(cmd, "GC") == 0) return 0;
  if (strcmp(cmd, "STATUS") == 0) return print_error(version, 50, "weft agent not available", details);
  if (strcmp(cmd, "ADD") == 0 || strcmp(cmd, "CHECK") == 0)
    return print_error(version, 11, "weft agent not available, try again later", details);
  return print_error(version, 4, "unknown or missing CNI_COMMAND", "CNI_COMMAND must be one of ADD, DEL, CHECK, STATUS, GC, VERSION");
}

int main(void) {
  const char *cmd = getenv("CNI_COMMAND");
  if (!cmd) cmd = "";
  struct buf in = {0};
  int r = read_stdin(&in);
  if (r == -2) return print_error("1.1.0", 6, "network config on stdin is too large", "the limit is 1 MiB");
  if (r < 0) return print_error("1.1.0", 6, "cannot read the network config from stdin", strerror(errno));
  if (!in.data) buf_append(&in, "", 0);

  char *version = top_level_string(in.data, in.len, "cniVersion");
  if (!version) version = strdup("1.1.0");
  if (strcmp(cmd, "VERSION") == 0) {
    printf("{\"cniVersion\":");
    json_puts(version);
    printf(",\"supportedVersions\":" SUPPORTED "}\n");
    return 0;
  }

  char *socket_path = top_level_string(in.data, in.len, "socket");
  if (!socket_path || !*socket_path) socket_path = strdup(DEFAULT_SOCKET);

  struct buf req = {0};
  char line[128];
  snprintf(line, sizeof line, "WEFTCNI 1 %zu\n", in.len);
  buf_append(&req, line, strlen(line));
  for (const char *const *name = forwarded_env; *name; name++) {
    const char *value = getenv(*name);
    if (!value) continue;
    if (strchr(value, '\n'))
      return print_error(version, 4, "invalid CNI environment variable", "a CNI_* value contains a newline");
    buf_append(&req, *name, strlen(*name));
    buf_append(&req, "=", 1);
    buf_append(&req, value, strlen(value));
    buf_append(&req, "\n", 1);
  }
  buf_append(&req, "\n", 1);
  buf_append(&req, in.data, in.len);

  long long deadline = now_ms() + TOTAL_TIMEOUT_MS;
  int fd = connect_agent(socket_path);
  if (fd < 0) return answer_unreachable(cmd, version, socket_path);
  if (send_all(fd, req.data, req.len, deadline) < 0) {
    close(fd);
    return answer_unreachable(cmd, version, socket_path);
  }
  struct buf reply = {0};
  int code = read_reply(fd, &reply, deadline);
  close(fd);
  if (code < 0) return answer_unreachable(cmd, version, socket_path);
  return code == 0 ? 0 : 1;
}
