// A storm of blocking sleeps for the report path: THREADS threads each sleep 1 µs in nanosleep
// (a syscall the default policy counts) as fast as they can for SECONDS, with a timer slack
// of 1 ns so that each sleep is short. Every call puts its thread to sleep once. Prints the
// number of sleeps made.
//
//   storm THREADS SECONDS
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static double seconds;
static long sleep_ns;
static atomic_long total;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void *storm(void *unused) {
  (void)unused;
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  struct timespec micro = {0, sleep_ns};
  long sleeps = 0;
  for (double end = now() + seconds; now() < end;) {
    nanosleep(&micro, NULL);
    sleeps++;
  }
  atomic_fetch_add(&total, sleeps);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: storm THREADS SECONDS [SLEEP_NS]\n");
    return 64;
  }
  int threads = atoi(argv[1]);
  seconds = atof(argv[2]);
  sleep_ns = argc > 3 ? atol(argv[3]) : 20000;
  pthread_t ids[threads];
  for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, storm, NULL);
  for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
  printf("%ld\n", atomic_load(&total));
  return 0;
}
