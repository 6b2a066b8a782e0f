// pingpong: an event-loop round trip, the guard's worst case.
//
// The main thread (the one a guard watches) and a partner thread wake each other through two
// eventfds, each thread sleeping in epoll_wait between messages. Every round trip puts the
// main thread to sleep once, so the guard's program runs about once per round trip, and always
// finds an allowed event-loop wait: the path every event loop takes all day.
//
//   pingpong -d SECONDS [-w] [-p CPU]    run for a duration
//   pingpong -n ROUNDTRIPS [-w] [-p CPU] run a number of round trips
//
// -p CPU pins the partner thread to CPU (pin the main thread with taskset): left to the
// scheduler, the two threads share a CPU in some runs and not in others, and the rate jumps
// between two levels from run to run.
//
// Prints one line: "round_trips=N seconds=S cpu_ns_per_round_trip=C per_second=R". C is the
// CPU time both threads used (CLOCK_PROCESS_CPUTIME_ID) over the round trips: unlike the rate,
// it does not fall when a busy machine's other work takes the CPUs, so it shows what a guard
// adds to each round trip where the rate cannot. With -w it then waits, in
// epoll_wait, until stdin reaches end of file: the process (and the guard's program, which
// lives as long as the process) stays alive so that a benchmark can read the program's
// statistics after the measured loop.
//
// epoll_wait is called through syscall(2) on purpose: the seed's program allows epoll_wait but
// not epoll_pwait, and a C library is free to implement one with the other.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STOP UINT64_C(0xffffffff)

struct inbox {
  int efd;   // eventfd messages arrive on
  int epfd;  // epoll set watching it
};

static void die(const char *what) {
  fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
  exit(2);
}

static struct inbox inbox_open(void) {
  struct inbox in;
  in.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (in.efd < 0) die("eventfd");
  in.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (in.epfd < 0) die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = in.efd};
  if (epoll_ctl(in.epfd, EPOLL_CTL_ADD, in.efd, &ev) < 0) die("epoll_ctl");
  return in;
}

// Sleeps in epoll_wait until the eventfd has a message, then takes it.
static uint64_t receive(const struct inbox *in) {
  struct epoll_event ev;
  for (;;) {
    long n = syscall(SYS_epoll_wait, in->epfd, &ev, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    uint64_t value;
    if (read(in->efd, &value, sizeof value) == sizeof value) return value;
    if (errno != EAGAIN) die("read");
  }
}

static void send_to(const struct inbox *to, uint64_t value) {
  if (write(to->efd, &value, sizeof value) != sizeof value) die("write");
}

static struct inbox main_inbox, partner_inbox;

static void *partner(void *unused) {
  (void)unused;
  for (;;) {
    uint64_t value = receive(&partner_inbox);
    if (value == STOP) return NULL;
    send_to(&main_inbox, value);
  }
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_time(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void) {
  fprintf(stderr, "usage: pingpong -d SECONDS | -n ROUNDTRIPS [-w] [-p CPU]\n");
  exit(64);
}

int main(int argc, char **argv) {
  double duration = 0;
  long long limit = 0;
  int hold = 0, partner_cpu = -1, opt;
  while ((opt = getopt(argc, argv, "d:n:wp:")) != -1) {
    switch (opt) {
      case 'd': duration = atof(optarg); break;
      case 'n': limit = atoll(optarg); break;
      case 'w': hold = 1; break;
      case 'p': partner_cpu = atoi(optarg); break;
      default: usage();
    }
  }
  if ((duration > 0) == (limit > 0)) usage();

  main_inbox = inbox_open();
  partner_inbox = inbox_open();
  // The partner starts on its CPU: set in its attributes, the main thread never migrates.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (partner_cpu >= 0) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(partner_cpu, &cpus);
    if ((errno = pthread_attr_setaffinity_np(&attr, sizeof cpus, &cpus))) die("pthread_attr_setaffinity_np");
  }
  pthread_t thread;
  if ((errno = pthread_create(&thread, &attr, partner, NULL))) die("pthread_create");
  pthread_setname_np(thread, "pp-partner");

  double start = now(), end = start + duration, stop, cpu_start = cpu_time(), cpu_stop;
  long long trips = 0;
  for (;;) {
    send_to(&partner_inbox, 1);
    receive(&main_inbox);
    trips++;
    if (limit ? trips >= limit : ((trips & 63) == 0 && now() >= end)) break;
  }
  stop = now();
  cpu_stop = cpu_time();
  send_to(&partner_inbox, STOP);
  if ((errno = pthread_join(thread, NULL))) die("pthread_join");

  printf("round_trips=%lld seconds=%.3f cpu_ns_per_round_trip=%.0f per_second=%.0f\n", trips, stop - start,
         (cpu_stop - cpu_start) * 1e9 / trips, trips / (stop - start));
  fflush(stdout);

  if (hold) {
    // End of file on stdin (a pipe or FIFO) shows as EPOLLIN|EPOLLHUP.
    struct inbox in = {.efd = 0, .epfd = epoll_create1(EPOLL_CLOEXEC)};
    struct epoll_event ev = {.events = EPOLLIN};
    if (in.epfd < 0 || epoll_ctl(in.epfd, EPOLL_CTL_ADD, 0, &ev) < 0) die("epoll on stdin");
    char buf[256];
    for (;;) {
      long n = syscall(SYS_epoll_wait, in.epfd, &ev, 1, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("epoll_wait on stdin");
      if (read(0, buf, sizeof buf) <= 0) break;
    }
  }
  return 0;
}
