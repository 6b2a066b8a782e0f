package dev.eventloopguardian.cli;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.guard.GuardProgram;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.guard.UnknownSyscallException;
import dev.eventloopguardian.report.JavaContexts;
import dev.eventloopguardian.report.Reporter;
import dev.eventloopguardian.report.ReportSettings;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.watch.HostWatcher;
import dev.eventloopguardian.watch.WatchRule;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code watch}: reports what blocks the event loops of a whole host, by rules, until INT or
 * TERM; HUP reads the rules again. Nothing is attached to a process: a process started later is
 * covered as soon as it runs.
 */
final class WatchCommand {
    static final String RULE_FROM_OPTIONS = "command-line";

    final Path config;
    final List<String> executables;
    final List<String> cgroups;
    final Integer eventsPerSecond;
    final PolicyOptions policyOptions;
    final ReportOptions reportOptions;
    /** The config file the rules were read from, if any: HUP reads it again. */
    private Path configRead;

    private WatchCommand(ParseResult parsed) {
        config = parsed.matchedOptionValue("--config", null);
        executables = Specs.list(parsed, "--exe");
        cgroups = Specs.list(parsed, "--cgroup");
        eventsPerSecond = parsed.matchedOptionValue("--events-per-second", null);
        policyOptions = PolicyOptions.of(parsed);
        reportOptions = ReportOptions.of(parsed);
    }

    static WatchCommand of(ParseResult parsed) {
        return new WatchCommand(parsed);
    }

    static CommandSpec spec() {
        CommandSpec spec = Specs.command("watch", (parsed, out, err) -> of(parsed).run(err));
        spec.usageMessage()
                .width(100)
                .synopsisHeading("")
                .customSynopsis("Usage: eventloop-guardian watch [--config FILE] [--exe GLOB] [--cgroup GLOB] [--threads GLOB] "
                        + "[OPTIONS]")
                .description(
                        "",
                        "Reports what blocks the event loops of every process on this host that a rule selects, "
                                + "processes started later and in containers included, without attaching to any: one "
                                + "eBPF program on the scheduler's context switch decides, for the threads of the "
                                + "selected processes only. Runs until Ctrl-C or TERM (exit 0, nothing left in the "
                                + "kernel); HUP reads --config again, and the counts go on.",
                        "",
                        "Rules come from --config (TOML; default " + WatchConfig.DEFAULT + " when no rule option is "
                                + "given) and from the options --exe, --cgroup and --threads with the policy options, "
                                + "which make one rule named '" + RULE_FROM_OPTIONS + "', tried first. A rule selects "
                                + "a process by its executable and its cgroup, then its threads by name; its policy "
                                + "says where they may sleep. Each process may write " + WatchConfig.DEFAULT_EVENTS_PER_SECOND
                                + " events a second (--events-per-second): past that its sleeps are counted, so a storm "
                                + "in one process does not crowd out the others'.",
                        "",
                        "Examples:",
                        "  eventloop-guardian watch --threads 'vert.x-eventloo*'          # every Vert.x loop on the host",
                        "  eventloop-guardian watch --exe node --exe redis-server --format json --output /var/log/loops.jsonl",
                        "  eventloop-guardian watch --cgroup '*/docker-*' --threads 'nioEventLoopGro*' --metrics 9464",
                        "  eventloop-guardian watch --config /etc/eventloop-guardian/watch.toml --metrics 0.0.0.0:9464",
                        "",
                        "A config file:",
                        "  events_per_second = 1000",
                        "  [[rule]]",
                        "  name = \"vertx\"",
                        "  executables = [\"java\"]            # a path, or its last part; * matches any run",
                        "  threads = [\"vert.x-eventloo*\"]",
                        "  [[rule]]",
                        "  name = \"node\"",
                        "  executables = [\"node\"]",
                        "  threads = [\"node\"]                # the main thread runs the loop",
                        "  allow = [\"poll\"]                  # keys as the options: allow, disallow, allow_fd,",
                        "                                    # no_defaults, include_uninterruptible, signal, cgroups",
                        "",
                        "Options:")
                .optionListHeading("")
                .footerHeading("%n")
                .footer(
                        "Exit status: 0 once stopped; 64 bad usage or config; 69 the kernel lacks a feature (BTF-typed "
                                + "tracepoints, Linux 5.11+); 74 the report could not be written in full; 77 missing "
                                + "privileges (CAP_BPF, CAP_PERFMON, and CAP_SYS_PTRACE to read other users' processes).",
                        "");
        spec.addOption(Specs.option("--config", "FILE", Path.class,
                "Read the rules from FILE (TOML, above); HUP reads it again.").build());
        spec.addOption(Specs.list("--exe", "GLOB",
                "Select processes whose executable matches: a path (/usr/bin/node), its last part (node), * any run."));
        spec.addOption(Specs.list("--cgroup", "GLOB",
                "Select processes whose cgroup path matches (/proc/PID/cgroup), e.g. '*/docker-*', '*/api.service'."));
        spec.addOption(Specs.option("--events-per-second", "N", Integer.class,
                "Events each process may write a second (default " + WatchConfig.DEFAULT_EVENTS_PER_SECOND
                        + "); past it, its sleeps are counted and not written.").build());
        PolicyOptions.declare(spec);
        ReportOptions.declare(spec);
        return spec;
    }

    int run(PrintWriter err) {
        try {
            reportOptions.requireReport(true);
            if (Boolean.TRUE.equals(reportOptions.jvmAgent)) {
                throw new UsageException("--jvm-agent does not go with watch, which starts and attaches to no JVM; "
                        + "guard one JVM with --report or attach to tell its Java-level waits apart");
            }
            if (!policyOptions.btf.equals(Btf.VMLINUX)) {
                throw new UsageException("--btf does not go with watch: it needs the running kernel's BTF, " + Btf.VMLINUX);
            }
            WatchConfig.Loaded loaded = rules();
            HostWatcher watcher = HostWatcher.start(loaded.rules(), loaded.eventsPerSecond(), note -> {
                err.println("eventloop-guardian: " + note);
                err.flush();
            });
            try (watcher) {
                return reportOptions.run(err, watcher.guard(), watcher, settings -> watch(watcher, settings));
            }
        } catch (Exception e) {
            return Failures.report(e, err, Failures.WATCH_AS_ROOT);
        }
    }

    /** The rules of the options, then of the config file: --config's, or the default one's when no option makes a rule. */
    WatchConfig.Loaded rules() throws UsageException, UnknownSyscallException {
        List<WatchRule> rules = new ArrayList<>();
        boolean fromOptions = !executables.isEmpty() || !cgroups.isEmpty() || !policyOptions.threads.isEmpty();
        if (fromOptions) {
            rules.add(WatchConfig.rule("the rule of the options", RULE_FROM_OPTIONS, executables, cgroups,
                    policyOptions.threads, policyOptions.allow, policyOptions.disallow, policyOptions.allowFd,
                    policyOptions.noDefaults, policyOptions.includeUninterruptible, policyOptions.signal));
        } else if (!policyOptions.allow.isEmpty() || !policyOptions.disallow.isEmpty() || !policyOptions.allowFd.isEmpty()
                || policyOptions.signal != null || policyOptions.noDefaults || policyOptions.includeUninterruptible) {
            throw new UsageException("the policy options make a rule with --exe, --cgroup or --threads, which say what it "
                    + "selects; in --config, give each rule its own policy");
        }
        int budget = WatchConfig.DEFAULT_EVENTS_PER_SECOND;
        Path file = config != null ? config : fromOptions ? null : WatchConfig.DEFAULT;
        if (file != null) {
            if (config == null && !Files.exists(file)) {
                throw new UsageException("no rules: give --config FILE, or --exe, --cgroup or --threads (with no rule option, "
                        + "watch reads " + WatchConfig.DEFAULT + ", which does not exist)");
            }
            WatchConfig.Loaded loaded = WatchConfig.read(file);
            configRead = file;
            rules.addAll(loaded.rules());
            budget = loaded.eventsPerSecond();
            if (rules.stream().filter(rule -> rule.name().equals(RULE_FROM_OPTIONS)).count() > 1) {
                throw new UsageException(file + ": the rule name '" + RULE_FROM_OPTIONS + "' is the options' own; rename yours");
            }
        }
        if (eventsPerSecond != null) {
            if (eventsPerSecond < 1) {
                throw new UsageException("--events-per-second " + eventsPerSecond + ": at least 1");
            }
            budget = eventsPerSecond;
        }
        if (rules.size() > 31) {
            throw new UsageException("at most 31 rules, not " + rules.size() + ": merge rules that share a policy");
        }
        SyscallTable table = SyscallTable.of(Arch.current());
        for (WatchRule rule : rules) {
            GuardProgram.validate(rule.policy(), table);
        }
        return new WatchConfig.Loaded(rules, budget);
    }

    /** Reports until INT or TERM, reading the rules again at each HUP. */
    private int watch(HostWatcher watcher, ReportSettings settings) throws Exception {
        PrintWriter notes = settings.notes();
        AtomicBoolean hangUp = new AtomicBoolean();
        Signal hup = new Signal("HUP");
        SignalHandler previous = Signal.handle(hup, caught -> hangUp.set(true));
        try (Reporter reporter = Reporter.open(watcher.guard(), settings, JavaContexts.NONE);
             StopSignals stop = StopSignals.install("INT", "TERM")) {
            notes.printf("eventloop-guardian: watching the host: %d rule%s (%s), %s selected now; "
                            + "%sCtrl-C or TERM stops%n", watcher.rules().size(),
                    watcher.rules().size() == 1 ? "" : "s", String.join(", ", watcher.rules().stream().map(WatchRule::name).toList()),
                    processes(watcher.processesWatched()), configRead == null ? "" : "HUP reads " + configRead + " again, ");
            notes.flush();
            while (!stop.received()) {
                reporter.reportWhile(() -> !stop.received() && !hangUp.get());
                if (hangUp.getAndSet(false)) {
                    reload(watcher, notes);
                }
            }
            notes.println("eventloop-guardian: " + stop.signalName() + ": stopped watching; nothing of ours is left in the kernel");
            Map<Integer, Long> suppressed = watcher.guard().suppressed();
            if (!suppressed.isEmpty()) {
                notes.println("eventloop-guardian: past their budget of events, sleeps counted and not written: " + suppressed);
            }
            notes.flush();
            return reporter.finish() ? 0 : ExitCodes.REPORT_INCOMPLETE;
        } finally {
            Signal.handle(hup, previous);
        }
    }

    private static String processes(int count) {
        return count + (count == 1 ? " process" : " processes");
    }

    /** Reads the rules again; rules that cannot be read leave those in force. */
    private void reload(HostWatcher watcher, PrintWriter notes) {
        try {
            WatchConfig.Loaded loaded = rules();
            watcher.replaceRules(loaded.rules(), loaded.eventsPerSecond());
            notes.printf("eventloop-guardian: SIGHUP: rules read again: %d rule%s, %s selected now%n",
                    loaded.rules().size(), loaded.rules().size() == 1 ? "" : "s", processes(watcher.processesWatched()));
        } catch (Exception e) {
            notes.println("eventloop-guardian: SIGHUP: the rules were not replaced, the old ones stay: " + e.getMessage());
        }
        notes.flush();
    }
}
