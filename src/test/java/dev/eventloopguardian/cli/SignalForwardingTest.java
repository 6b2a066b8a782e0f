package dev.eventloopguardian.cli;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --report}: the signals a supervisor sends the guardian reach COMMAND, as the README's
 * list says (stdin is not a terminal here, so INT is forwarded too), and QUIT, which HotSpot
 * keeps, writes nothing into COMMAND's streams.
 */
@KernelTest
class SignalForwardingTest {
    private static final List<String> FORWARDED = List.of("HUP", "USR1", "USR2", "ALRM", "WINCH", "INT", "TERM");
    private static final int SIGQUIT = 3;

    @Test
    void everyForwardedSignalReachesCommandAndQuitPrintsNothing() throws Exception {
        String handlers = String.join("\n",
                "import signal, sys",
                "def got(number, frame):",
                "    name = signal.Signals(number).name",
                "    print('got ' + name, file=sys.stderr, flush=True)",
                "    if name == 'SIGTERM': sys.exit(0)",
                "for name in " + FORWARDED.stream().map(name -> "'SIG" + name + "'").toList() + ":",
                "    signal.signal(getattr(signal, name), got)",
                "print('ready', file=sys.stderr, flush=True)",
                "while True: signal.pause()");
        try (Guardian.Running running = guardian().start("--report", "--min-duration", "24h", Python.executable(), "-c",
                handlers)) {
            running.closeStdin();
            running.awaitStderr("ready", Duration.ofSeconds(30));
            int guardianPid = (int) running.pid();

            Linux.kill(guardianPid, SIGQUIT);
            Thread.sleep(500);
            for (String name : FORWARDED) {
                Linux.kill(guardianPid, number(name));
                running.awaitStderr("got SIG" + name, Duration.ofSeconds(10));
            }
            Guardian.Result result = running.result();
            assertThat(result.status()).as("COMMAND exited 0 from its TERM handler: " + result).isZero();
            assertThat(result.stdout()).as("nothing of the JVM's in COMMAND's stdout").isEmpty();
            assertThat(result.stderr()).as(result.toString()).doesNotContain("thread dump").doesNotContain("got SIGQUIT");
        }
    }

    private static int number(String name) {
        return switch (name) {
            case "HUP" -> 1;
            case "INT" -> 2;
            case "USR1" -> 10;
            case "USR2" -> 12;
            case "ALRM" -> 14;
            case "TERM" -> 15;
            case "WINCH" -> 28;
            default -> throw new IllegalArgumentException(name);
        };
    }
}
