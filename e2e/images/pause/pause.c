/*
 * The pod sandbox process of the node images (registry.k8s.io/pause:<tag>, built locally).
 *
 * It holds a pod's namespaces open and does nothing else: it sleeps in pause() until a
 * signal arrives. SIGINT and SIGTERM end it with status 0. As PID 1 of a pod's shared PID
 * namespace it is the parent of every orphan in that pod, so on SIGCHLD it reaps all
 * children that have exited. A process that is PID 1 of a namespace gets no default signal
 * action, which is why every signal it reacts to has a handler.
 *
 * `pause -v` prints its version and exits 0. No dependencies beyond libc; built with
 * gcc -static (see build.sh next to this file).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PAUSE_VERSION
#define PAUSE_VERSION "unknown"
#endif

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  /* Several children may have exited behind one SIGCHLD. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static int handle(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "-v") == 0) {
    printf("weft pause %s\n", PAUSE_VERSION);
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "usage: pause [-v]\n");
    return 2;
  }
  if (handle(SIGINT, on_stop, 0) != 0 || handle(SIGTERM, on_stop, 0) != 0 ||
      handle(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) != 0) {
    perror("pause: sigaction");
    return 1;
  }
  /* Children that exited before the handler was installed. */
  on_child(SIGCHLD);
  for (;;) {
    pause();
  }
}
