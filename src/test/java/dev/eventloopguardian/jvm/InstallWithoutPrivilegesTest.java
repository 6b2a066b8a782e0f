package dev.eventloopguardian.jvm;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A JVM without CAP_BPF and CAP_PERFMON cannot guard itself: install() fails fast with an
 * exception that names what is missing and the two ways out. (Root drops its privileges for the
 * probe, so this is a kernel test.)
 */
@KernelTest
class InstallWithoutPrivilegesTest {
    @Test
    void installThrowsAndSaysWhichCapabilitiesAndTheWaysOut(@TempDir Path scratch) throws Exception {
        String classpath = Guardian.worldReadableClassPath(scratch, List.of(EventLoopGuardian.class.getName(),
                InstallProbe.class.getName()));
        Process probe = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--",
                ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED",
                "-cp", classpath, InstallProbe.class.getName()).redirectErrorStream(true).start();
        assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(probe.exitValue()).as(output).isEqualTo(3);
        assertThat(output).contains("CAP_BPF", "CAP_PERFMON", "setcap", "--user", "eventloop-guardian attach");
    }
}
