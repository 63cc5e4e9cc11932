/*
 * TCP connect/request/response for the policy datapath benchmark (built by
 * bench/lib/connect-echo.ts with the host's gcc). In C because Node's event
 * loop adds 300-500 µs per connection on a small VM, which would drown the
 * few µs a NetworkPolicy chain costs a new connection.
 *
 *   tcp-crr serve <port>                    echo one byte per connection, one at a time
 *   tcp-crr run <ip> <port> <count> <warmup> time connect + 1-byte echo + close, <count> times;
 *                                           prints the latencies in µs as a JSON array
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void timeouts(int fd) {
  struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int serve(int port) {
  int one = 1;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  if (ls < 0) die("socket");
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(ls, 128) < 0) die("listen");
  printf("listening\n");
  fflush(stdout);
  for (;;) {
    int s = accept(ls, NULL, NULL);
    if (s < 0) continue;
    timeouts(s);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char c;
    if (read(s, &c, 1) == 1) (void)!write(s, &c, 1);
    close(s);
  }
}

static double once(const struct sockaddr_in *a) {
  struct timespec t0, t1;
  int one = 1;
  char c = 'x';
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) die("socket");
  timeouts(s);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(s, (const struct sockaddr *)a, sizeof *a) < 0) die("connect");
  if (write(s, &c, 1) != 1) die("write");
  if (read(s, &c, 1) != 1) die("read (no echo)");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  close(s);
  return (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
}

static int run(const char *ip, int port, int count, int warmup) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) die("inet_pton");
  for (int i = 0; i < warmup; i++) once(&a);
  printf("[");
  for (int i = 0; i < count; i++) printf("%s%.1f", i ? "," : "", once(&a));
  printf("]\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "serve") == 0) return serve(atoi(argv[2]));
  if (argc == 6 && strcmp(argv[1], "run") == 0)
    return run(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
  fprintf(stderr, "usage: tcp-crr serve <port> | run <ip> <port> <count> <warmup>\n");
  return 2;
}
