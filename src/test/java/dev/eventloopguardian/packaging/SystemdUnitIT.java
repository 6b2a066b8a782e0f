package dev.eventloopguardian.packaging;

import dev.eventloopguardian.testing.KernelCondition;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static dev.eventloopguardian.packaging.Release.BLOCKING_PYTHON;
import static dev.eventloopguardian.packaging.Release.PYTHON;
import static dev.eventloopguardian.packaging.Release.command;
import static dev.eventloopguardian.packaging.Release.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * packaging/eventloop-guardian.service: systemd finds nothing to say about it as install.sh installs it, and the
 * capabilities it grants are enough for the installed tool run by a user that is not root, and each one is needed.
 * The tool runs here under util-linux's setpriv with exactly the unit's capabilities (inheritable, ambient and
 * bounding set, as systemd sets them for a non-root User=), uid nobody and no_new_privs: what systemd would start,
 * without systemd (these machines do not run it as init).
 */
class SystemdUnitIT {
    static final Path UNIT = Path.of("packaging", "eventloop-guardian.service");
    private static final String SYMBOL_IN_LIBC = "clock_nanosleep+0x";

    @TempDir
    static Path scratch;
    static Path prefix;
    static Path installedUnit;
    /** A Python loop that sleeps, as root, in a mount namespace of its own, its libc in a directory only root reads. */
    static Process contained;

    @BeforeAll
    static void install() throws Exception {
        prefix = Release.install(scratch);
        installedUnit = prefix.resolve("lib/systemd/system/eventloop-guardian.service");
    }

    @AfterAll
    static void stop() {
        if (contained != null) {
            contained.destroyForcibly();
        }
    }

    @Test
    void systemdAnalyzeVerifiesTheInstalledUnitWithoutAWord() throws Exception {
        requireSystemdAnalyze();
        // Documentation=man:eventloop-guardian(1): verify runs man on it, which finds the installed page.
        Release.Run verify = run(List.of("systemd-analyze", "verify", installedUnit.toString()),
                Map.of("MANPATH", prefix.resolve("share/man") + ":"));
        assertThat(verify.status()).as(verify.both()).isZero();
        assertThat(verify.both().lines().filter(line -> line.contains("eventloop-guardian")))
                .as("what systemd-analyze says about the unit").isEmpty();

        Release.Run security = run(List.of("systemd-analyze", "security", "--offline=true", installedUnit.toString()),
                Map.of());
        assertThat(security.status()).as(security.both()).isZero();
        assertThat(security.out()).containsPattern("Overall exposure level for eventloop-guardian.service: [0-3]\\.[0-9] OK");
    }

    @Test
    void theInstalledUnitGrantsWhatTheSourceUnitDoes() throws Exception {
        assertThat(capabilities(installedUnit)).isEqualTo(capabilities(UNIT))
                .containsExactlyInAnyOrder("CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_SYSLOG", "CAP_DAC_READ_SEARCH");
        assertThat(Files.readString(UNIT)).contains("\nNoNewPrivileges=yes\n", "\nDynamicUser=yes\n",
                "\nMemoryDenyWriteExecute=no\n", "\nExecReload=/bin/kill -HUP $MAINPID\n");
    }

    /**
     * The unit's own command line (its metrics on a free port, these machines being shared), with the example config
     * install.sh put in place: it reads the rules, serves metrics, reloads on HUP, and TERM stops it with status 0.
     */
    @Test
    @KernelTest
    void theUnitsCommandRunsWithItsCapabilitiesReloadsOnHupAndStopsCleanlyOnTerm() throws Exception {
        List<String> execStart = List.of(Files.readString(installedUnit).lines().filter(line -> line.startsWith("ExecStart="))
                .findFirst().orElseThrow().substring("ExecStart=".length()).split(" "));
        List<String> command = new ArrayList<>(execStart);
        command.set(command.indexOf("--metrics") + 1, "127.0.0.1:0");
        assertThat(command.subList(0, 4)).containsExactly(prefix + "/bin/eventloop-guardian", "watch", "--config",
                prefix + "/etc/eventloop-guardian/watch.toml");

        try (Watch watch = Watch.start(serviceUser(capabilities(UNIT), command.getFirst(), command.subList(1, command.size())))) {
            watch.await("watching the host: 2 rules (jvm-event-loops, node)");
            assertThat(watch.err()).containsPattern("metrics at http://127\\.0\\.0\\.1:[1-9][0-9]*/metrics");
            watch.signal("HUP");
            watch.await("rules read again: 2 rules");
            assertThat(watch.stop()).as(watch.err()).isZero();
            assertThat(watch.err()).contains("nothing of ours is left in the kernel");
        }
    }

    /**
     * watch, as the unit runs it but with a rule for Python, reports a sleep of a Python run by root, named down to
     * the kernel's and libc's frames; without CAP_SYS_PTRACE it cannot read that process's executable, and no rule
     * selects it.
     */
    @Test
    @KernelTest
    void theUnitsCapabilitiesLetWatchReportAnotherUsersBlockingSleepAndCapSysPtraceIsWhatSelectsIt() throws Exception {
        Path config = scratch.resolve("python.toml");
        // Its threads by name too: another test's Python sleeps all along, and only this one must count.
        Files.writeString(config, "[[rule]]\nname = \"python\"\nexecutables = [\"python3*\"]\nthreads = [\"eg-blocker\"]\n");

        try (Watch watch = Watch.start(serviceUser(capabilities(UNIT), prefix.resolve("bin/eventloop-guardian").toString(),
                List.of("watch", "--config", config.toString())))) {
            watch.await("watching the host: 1 rule (python)");
            blockAsRoot();
            watch.await("(eg-blocker) blocked in clock_nanosleep(");
            assertThat(watch.stop()).as(watch.err()).isZero();
            assertThat(watch.err()).contains("rule python", "      schedule+0x", SYMBOL_IN_LIBC, "summary: 2 blocking sleeps");
        }
        try (Watch watch = Watch.start(serviceUser(without("CAP_SYS_PTRACE"),
                prefix.resolve("bin/eventloop-guardian").toString(), List.of("watch", "--config", config.toString())))) {
            watch.await("watching the host: 1 rule (python)");
            blockAsRoot();
            Thread.sleep(1500);
            assertThat(watch.stop()).as(watch.err()).isZero();
            assertThat(watch.err()).contains("summary: 0 blocking sleeps").doesNotContain("blocked in");
        }
    }

    /** A Python thread named eg-blocker that sleeps twice, run by root (this test), not by the service's user. */
    private static void blockAsRoot() throws Exception {
        Release.Run python = run(List.of(PYTHON, "-c", "open('/proc/self/comm', 'w').write('eg-blocker')\n"
                + "import time; time.sleep(0.05); time.sleep(0.05)"), Map.of());
        assertThat(python.status()).as(python.both()).isZero();
    }

    @Test
    @KernelTest
    void theUnitsCapabilitiesLetANonRootUserReportABlockingSleepWithNamedStacks() throws Exception {
        Release.Run report = asServiceUser(capabilities(UNIT), "--report", PYTHON, "-c", BLOCKING_PYTHON);

        assertThat(report.status()).as(report.both()).isZero();
        assertThat(report.err()).contains("(python3) blocked in clock_nanosleep(", "summary: 1 blocking sleep",
                "      schedule+0x", SYMBOL_IN_LIBC);
    }

    @Test
    @KernelTest
    void withoutCapBpfOrCapPerfmonNothingLoads() throws Exception {
        for (String dropped : List.of("CAP_BPF", "CAP_PERFMON")) {
            Release.Run report = asServiceUser(without(dropped), "--report", PYTHON, "-c", BLOCKING_PYTHON);
            assertThat(report.status()).as("without %s: %s", dropped, report.both()).isEqualTo(77);
            assertThat(report.err()).contains("not allowed to load an eBPF program");
        }
    }

    @Test
    @KernelTest
    void withoutCapSyslogKernelStacksAreBareAddresses() throws Exception {
        assertThat(Files.readString(Path.of("/proc/sys/kernel/perf_event_paranoid")).strip())
                .as("kallsyms shows addresses to anyone when perf_event_paranoid <= 1 and kptr_restrict is 0")
                .isNotIn("-1", "0", "1");
        Release.Run report = asServiceUser(without("CAP_SYSLOG"), "--report", PYTHON, "-c", BLOCKING_PYTHON);

        assertThat(report.status()).as(report.both()).isZero();
        assertThat(report.err()).contains("blocked in clock_nanosleep(", "      0xffffffff").doesNotContain("schedule+0x");
    }

    /**
     * A process in a container is named from its own files, through /proc/PID/root (which needs CAP_SYS_PTRACE for
     * another user's process), and those files may be readable by their owner only (CAP_DAC_READ_SEARCH).
     */
    @Test
    @KernelTest
    void aContainersFilesAreNamedWithCapSysPtraceAndCapDacReadSearchAndOnlyWithBoth() throws Exception {
        int pid = containedSleeper();

        assertThat(attachedSummary(capabilities(UNIT), pid)).contains(SYMBOL_IN_LIBC + "23 (libc.so.6)");
        for (String dropped : List.of("CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH")) {
            assertThat(attachedSummary(without(dropped), pid)).as("without %s", dropped)
                    .contains("clock_nanosleep <- libc.so.6+0x").doesNotContain(SYMBOL_IN_LIBC);
        }
    }

    /** The capabilities the unit grants: its bounding set, which its ambient set must equal. */
    static Set<String> capabilities(Path unit) throws Exception {
        String text = Files.readString(unit);
        Set<String> bounding = setting(text, "CapabilityBoundingSet");
        assertThat(setting(text, "AmbientCapabilities")).as("AmbientCapabilities").isEqualTo(bounding);
        return bounding;
    }

    private static Set<String> setting(String unit, String key) {
        List<String> values = unit.lines().filter(line -> line.startsWith(key + "="))
                .map(line -> line.substring(key.length() + 1)).toList();
        assertThat(values).as("%s, once", key).hasSize(1);
        return new TreeSet<>(Arrays.asList(values.getFirst().strip().split("\\s+")));
    }

    private static Set<String> without(String capability) throws Exception {
        Set<String> all = new TreeSet<>(capabilities(UNIT));
        assertThat(all.remove(capability)).as("the unit grants %s", capability).isTrue();
        return all;
    }

    /** The installed tool run as the unit would run it, but as nobody: those capabilities, no others, no_new_privs. */
    private static Release.Run asServiceUser(Set<String> capabilities, String... args) throws Exception {
        return run(serviceUser(capabilities, prefix.resolve("bin/eventloop-guardian").toString(), List.of(args)), Map.of());
    }

    private static List<String> serviceUser(Set<String> capabilities, String... command) {
        return serviceUser(capabilities, command[0], List.of(command).subList(1, command.length));
    }

    private static List<String> serviceUser(Set<String> capabilities, String program, List<String> args) {
        String caps = capabilities.isEmpty() ? "-all" : "-all," + capabilities.stream()
                .map(c -> "+" + c.substring("CAP_".length()).toLowerCase()).collect(Collectors.joining(","));
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=" + caps, "--ambient-caps=" + caps, "--bounding-set=" + caps, "--no-new-privs", program));
        command.addAll(args);
        return command;
    }

    /** The summary of attaching to {@code pid} as the service user for a second and a half. */
    private static String attachedSummary(Set<String> capabilities, int pid) throws Exception {
        Release.Run attach = run(command(serviceUser(capabilities, "timeout", "-s", "INT", "1.5",
                prefix.resolve("bin/eventloop-guardian").toString(), "attach", "--pid", Integer.toString(pid))), Map.of());
        assertThat(attach.err()).as(attach.both()).contains("attached to pid " + pid, "summary: ");
        return attach.err().substring(attach.err().indexOf("summary: "));
    }

    private static synchronized int containedSleeper() throws Exception {
        if (contained == null) {
            Path mount = Files.createDirectory(scratch.resolve("container-lib"));
            Release.openToAll(scratch);
            String libc = Files.readAllLines(Path.of("/proc/self/maps")).stream().map(line -> line.replaceAll(".* ", ""))
                    .filter(file -> file.endsWith("/libc.so.6")).findFirst().orElseThrow();
            String script = "mount -t tmpfs -o mode=0700 none \"$1\" && cp " + libc + " \"$1\"/ "
                    + "&& LD_LIBRARY_PATH=\"$1\" exec " + PYTHON + " -c 'import time\nwhile True: time.sleep(0.1)'";
            contained = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                    mount.toString()).inheritIO().start();
            for (int i = 0; i < 100; i++) {
                Path maps = Path.of("/proc", Long.toString(contained.pid()), "maps");
                if (Files.exists(maps) && Files.readString(maps).contains(mount + "/libc.so.6")) {
                    break;
                }
                Thread.sleep(50);
            }
            assertThat(Files.readString(Path.of("/proc", Long.toString(contained.pid()), "maps")))
                    .as("python in its own mount namespace, on the libc copy").contains(mount + "/libc.so.6");
            assertThat(mount.resolve("libc.so.6")).as("seen from here, the copy is not there").doesNotExist();
        }
        return (int) contained.pid();
    }

    private static void requireSystemdAnalyze() {
        if (!Files.isExecutable(Path.of("/usr/bin/systemd-analyze"))) {
            throw KernelCondition.missing("systemd-analyze is not installed (apt-get install systemd)", "the unit's tests");
        }
    }

    /** A watch session started in the background, its stderr in a file, stopped (TERM) when closed. */
    private record Watch(Process process, Path errFile) implements AutoCloseable {
        static Watch start(List<String> command) throws Exception {
            Path err = Files.createTempFile(scratch, "watch", ".err");
            Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(err.toFile()).start();
            return new Watch(process, err);
        }

        String err() throws Exception {
            return Files.readString(errFile);
        }

        /** Waits up to 30 s until stderr holds every one of {@code texts}. */
        void await(String... texts) throws Exception {
            for (int i = 0; i < 600; i++) {
                String err = err();
                if (List.of(texts).stream().allMatch(err::contains)) {
                    return;
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(50);
            }
            assertThat(err()).as("watch's stderr").contains(texts);
        }

        void signal(String name) throws Exception {
            Release.Run kill = run(List.of("kill", "-" + name, Long.toString(process.pid())), Map.of());
            assertThat(kill.status()).as(kill.both()).isZero();
        }

        /** TERM, then its exit status. */
        int stop() throws Exception {
            if (process.isAlive()) {
                signal("TERM");
            }
            assertThat(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("watch stopped on TERM").isTrue();
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
