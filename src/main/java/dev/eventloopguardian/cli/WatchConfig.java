package dev.eventloopguardian.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.Signal;
import dev.eventloopguardian.watch.PathGlob;
import dev.eventloopguardian.watch.WatchRule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code watch}'s configuration file, TOML: a budget of events per process and second, and the
 * rules, in the order they are tried. Every key is optional but a rule's name; a key we do not
 * know is an error, so that a typo does not silently widen or narrow what is watched.
 *
 * <pre>
 * events_per_second = 1000
 *
 * [[rule]]
 * name = "vertx"
 * executables = ["java"]                 # the executable's path, or its last part
 * cgroups = ["/system.slice/*"]          # the process's cgroup (v2) path
 * threads = ["vert.x-eventloo*"]         # thread names, as the kernel has them (15 characters)
 * allow = ["poll"]                       # the policy, as the command line's options
 * disallow = []
 * allow_fd = ["write:3"]
 * no_defaults = false
 * include_uninterruptible = false
 * signal = "ABRT"                        # also signal the thread; reports only without it
 * </pre>
 *
 * <p>Read with Jackson's TOML module, bound to records: no Jackson core type appears here, since
 * the product jar relocates Jackson's core and the TOML module, kept beside the jar, does not.
 */
final class WatchConfig {
    /** Where the systemd unit and a watch without --config look for it. */
    static final Path DEFAULT = Path.of("/etc/eventloop-guardian/watch.toml");
    static final int DEFAULT_EVENTS_PER_SECOND = 1000;

    record File(Integer eventsPerSecond, List<Rule> rule) {
    }

    record Rule(String name, List<String> executables, List<String> cgroups, List<String> threads, List<String> allow,
                List<String> disallow, List<String> allowFd, Boolean noDefaults, Boolean includeUninterruptible,
                String signal) {
    }

    /** The rules and budget a file gives. */
    record Loaded(List<WatchRule> rules, int eventsPerSecond) {
    }

    private WatchConfig() {
    }

    static Loaded read(Path path) throws UsageException {
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new UsageException("--config " + path + ": no such file; write one (see 'eventloop-guardian watch --help' "
                    + "and packaging/watch.toml), or give rules on the command line (--threads, --exe, --cgroup)");
        } catch (IOException e) {
            throw new UsageException("--config " + path + ": cannot read it: " + e.getMessage());
        }
        return parse(path.toString(), text);
    }

    static Loaded parse(String where, String text) throws UsageException {
        File file;
        try {
            file = TomlMapper.builder()
                    .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                    .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .build()
                    .readValue(text, File.class);
        } catch (IOException e) {
            throw new UsageException(where + ": " + firstLines(e.getMessage()));
        }
        if (file == null || file.rule() == null || file.rule().isEmpty()) {
            throw new UsageException(where + ": no rule; add one, e.g.\n[[rule]]\nname = \"vertx\"\nthreads = [\"vert.x-eventloo*\"]");
        }
        int eventsPerSecond = file.eventsPerSecond() == null ? DEFAULT_EVENTS_PER_SECOND : file.eventsPerSecond();
        if (eventsPerSecond < 1) {
            throw new UsageException(where + ": events_per_second is at least 1, not " + eventsPerSecond);
        }
        List<WatchRule> rules = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < file.rule().size(); i++) {
            Rule rule = file.rule().get(i);
            String name = rule.name();
            if (name == null || name.isBlank()) {
                throw new UsageException(where + ": rule " + (i + 1) + " has no name; give it one (name = \"...\"): "
                        + "the reports and metrics say which rule matched");
            }
            if (!names.add(name)) {
                throw new UsageException(where + ": two rules are named '" + name + "'; give each its own name");
            }
            rules.add(rule(where + ": rule '" + name + "'", name, rule.executables(), rule.cgroups(), rule.threads(),
                    rule.allow(), rule.disallow(), rule.allowFd(), Boolean.TRUE.equals(rule.noDefaults()),
                    Boolean.TRUE.equals(rule.includeUninterruptible()), rule.signal()));
        }
        return new Loaded(rules, eventsPerSecond);
    }

    /** A rule from its parts; {@code where} starts each error: the file and rule, or the option. */
    static WatchRule rule(String where, String name, List<String> executables, List<String> cgroups, List<String> threads,
                          List<String> allow, List<String> disallow, List<String> allowFd, boolean noDefaults,
                          boolean includeUninterruptible, String signal) throws UsageException {
        Policy.Builder policy = Policy.builder().report(true).noSignal().includeUninterruptible(includeUninterruptible);
        try {
            if (noDefaults) {
                policy.noDefaults();
            }
            orEmpty(allow).forEach(policy::allow);
            for (String fdRule : orEmpty(allowFd)) {
                int colon = fdRule.lastIndexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException("allow_fd takes SYSCALL:FD, e.g. write:3, not '" + fdRule + "'");
                }
                policy.allowFd(fdRule.substring(0, colon), Integer.parseInt(fdRule.substring(colon + 1)));
            }
            orEmpty(disallow).forEach(policy::disallow);
            orEmpty(threads).forEach(policy::thread);
            if (signal != null) {
                policy.signal(Signal.parse(signal));
            }
            return new WatchRule(name, globs(executables), globs(cgroups), policy.build());
        } catch (IllegalArgumentException e) {
            throw new UsageException(where + ": " + e.getMessage());
        }
    }

    private static List<PathGlob> globs(List<String> patterns) {
        return orEmpty(patterns).stream().map(PathGlob::parse).toList();
    }

    private static List<String> orEmpty(List<String> list) {
        return list == null ? List.of() : list;
    }

    /** Jackson's message without the reference chain it appends. */
    private static String firstLines(String message) {
        String text = message == null ? "not TOML" : message;
        int chain = text.indexOf(" (through reference chain");
        return (chain > 0 ? text.substring(0, chain) : text).replace("dev.eventloopguardian.cli.WatchConfig$", "");
    }
}
