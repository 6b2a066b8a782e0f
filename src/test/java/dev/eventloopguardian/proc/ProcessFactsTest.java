package dev.eventloopguardian.proc;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessFactsTest {
    @Test
    void aSystemServiceIsNamedByItsUnit() {
        ProcessFacts redis = ProcessFacts.of(7, "redis-server", "/usr/bin/redis-server", "redis-server 127.0.0.1:6379",
                "0::/system.slice/redis-server.service\n");
        assertThat(redis.cgroup()).isEqualTo("/system.slice/redis-server.service");
        assertThat(redis.systemdUnit()).contains("redis-server.service");
        assertThat(redis.container()).isEmpty();
        assertThat(redis.podUid()).isEmpty();
    }

    @Test
    void aUsersServiceIsItsOwnUnitNotTheUserManager() {
        assertThat(ProcessFacts.systemdUnit("/user.slice/user-1000.slice/user@1000.service/app.slice/node-api.service"))
                .contains("node-api.service");
        assertThat(ProcessFacts.systemdUnit("/user.slice/user-1000.slice/session-3.scope")).contains("session-3.scope");
        assertThat(ProcessFacts.systemdUnit("/")).isEmpty();
    }

    @Test
    void aKubernetesPodHasItsUidAndItsContainer() {
        String id = "4f1c0e4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566";
        String systemdDriver = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f3e2d1c_1111_2222_3333_444455556666.slice/cri-containerd-"
                + id + ".scope\n";
        ProcessFacts facts = ProcessFacts.of(9, "java", "/opt/java/bin/java", "java -jar app.jar", systemdDriver);
        assertThat(facts.podUid()).contains("0f3e2d1c-1111-2222-3333-444455556666");
        assertThat(facts.container()).contains(new Container("containerd", id));
        assertThat(facts.systemdUnit()).as("a container's scope is no unit of the host's").isEmpty();

        assertThat(ProcessFacts.podUid("/kubepods/burstable/pod0f3e2d1c-1111-2222-3333-444455556666/" + id))
                .contains("0f3e2d1c-1111-2222-3333-444455556666");
    }

    @Test
    void theCommandLineIsJoinedAndCut() {
        assertThat(ProcessFacts.commandLine("node\0server.js\0--port\0008080\0".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("node server.js --port 8080");
        String longOne = ProcessFacts.commandLine(("java\0-cp\0" + "x".repeat(2000) + "\0").getBytes(StandardCharsets.UTF_8));
        assertThat(longOne).hasSize(ProcessFacts.COMMAND_LINE_CHARS).endsWith("...");
    }

    @Test
    void thisProcessIsRead() {
        Optional<ProcessFacts> self = ProcessFacts.read((int) ProcessHandle.current().pid());
        assertThat(self).hasValueSatisfying(facts -> {
            assertThat(facts.executable()).endsWith("/java");
            assertThat(facts.commandLine()).contains("java");
            assertThat(facts.cgroup()).startsWith("/");
        });
    }
}
