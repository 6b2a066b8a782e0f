// A storm of blocking reads for the report path: PAIRS pairs of threads ping-pong a byte over
// two pipes for SECONDS. Each read finds its pipe empty and sleeps in read (a syscall the
// default policy counts) until the partner writes, so every message is one counted sleep; the
// rate is set by how fast the two threads wake each other, not by a timer as in storm.c.
// Prints the number of messages received, which is about the number of sleeps made.
//
//   pipe-storm PAIRS SECONDS
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double seconds;
static atomic_long total;

struct pair {
  int to_partner[2];
  int to_main[2];
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "pipe-storm: %s: %s\n", what, strerror(errno));
  exit(2);
}

// Reads one byte, sleeping in read until it comes; 0 when the writer closed its end.
static int receive(int fd, char *byte) {
  for (;;) {
    ssize_t n = read(fd, byte, 1);
    if (n == 1) return 1;
    if (n == 0) return 0;
    if (errno != EINTR) die("read");
  }
}

static void send_to(int fd, char byte) {
  if (write(fd, &byte, 1) != 1) die("write");
}

// The partner echoes every byte until the main side closes its pipe.
static void *partner(void *arg) {
  struct pair *p = arg;
  long received = 0;
  char byte;
  while (receive(p->to_partner[0], &byte)) {
    received++;
    send_to(p->to_main[1], byte);
  }
  close(p->to_main[1]);
  atomic_fetch_add(&total, received);
  return NULL;
}

// The main side sends, waits for the echo, and checks the clock every 256 round trips.
static void *pinger(void *arg) {
  struct pair *p = arg;
  long received = 0;
  char byte = 'x';
  double end = now() + seconds;
  for (;;) {
    send_to(p->to_partner[1], byte);
    if (!receive(p->to_main[0], &byte)) break;
    if ((++received & 255) == 0 && now() >= end) break;
  }
  close(p->to_partner[1]);
  char rest;
  while (receive(p->to_main[0], &rest)) { // the partner closes its end once it has seen ours
  }
  atomic_fetch_add(&total, received);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: pipe-storm PAIRS SECONDS\n");
    return 64;
  }
  int pairs = atoi(argv[1]);
  seconds = atof(argv[2]);
  struct pair p[pairs];
  pthread_t pingers[pairs], partners[pairs];
  for (int i = 0; i < pairs; i++) {
    if (pipe(p[i].to_partner) < 0 || pipe(p[i].to_main) < 0) die("pipe");
    pthread_create(&partners[i], NULL, partner, &p[i]);
    pthread_create(&pingers[i], NULL, pinger, &p[i]);
  }
  for (int i = 0; i < pairs; i++) {
    pthread_join(pingers[i], NULL);
    pthread_join(partners[i], NULL);
  }
  printf("%ld\n", atomic_load(&total));
  return 0;
}
