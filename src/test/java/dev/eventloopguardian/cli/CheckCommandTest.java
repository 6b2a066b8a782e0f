package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code eventloop-guardian check}: the machine diagnosis a user runs first. */
@KernelTest
class CheckCommandTest {
    @Test
    void passesOnThisMachineIncludingEndToEnd() {
        Guardian.Result result = guardian().run("check");
        assertThat(result.status()).as(result.toString()).isZero();
        List<String> lines = result.stdout().lines().filter(line -> !line.isBlank()).toList();
        assertThat(lines).as(result.toString()).isNotEmpty().allMatch(line -> line.startsWith("PASS"));
        assertThat(lines).as(result.toString())
                .anyMatch(line -> line.matches("PASS\\s+guard stops a blocking call\\s+.*"))
                .anyMatch(line -> line.matches("PASS\\s+guard allows an allowed wait\\s+.*"))
                .anyMatch(line -> line.matches("PASS\\s+BTF\\s+.*"))
                .anyMatch(line -> line.matches("PASS\\s+load\\s+.*"))
                .anyMatch(line -> line.matches("PASS\\s+attach\\s+.*"));
    }

    @Test
    void withoutCapabilitiesFailsAndSaysWhatIsMissing(@TempDir Path scratch) {
        Guardian.Result result = guardian().withoutPrivileges(scratch).run("check");
        assertThat(result.status()).as(result.toString()).isEqualTo(1);
        assertThat(result.stdout()).as(result.toString())
                .containsPattern("(?m)^FAIL\\s+capabilities\\s+.*CAP_BPF.*CAP_PERFMON")
                .doesNotContain("guard stops a blocking call");
    }
}
