package dev.eventloopguardian.proc;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Container ids from /proc/PID/cgroup, as the runtimes write them. */
class ContainerTest {
    private static final String ID = "3f4e2a9c1b0d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f";
    private static final String POD = "0b3b2b6e_52b1_4c0f_9a57_1f7d7c1c9d2e";

    @Test
    void dockerUnderSystemdOnCgroupV2() {
        assertThat(Container.inCgroups("0::/system.slice/docker-" + ID + ".scope\n"))
                .contains(new Container("docker", ID));
    }

    @Test
    void containerdUnderKubernetes() {
        String cgroup = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD
                + ".slice/cri-containerd-" + ID + ".scope\n";
        assertThat(Container.inCgroups(cgroup)).contains(new Container("containerd", ID));
    }

    @Test
    void criOUnderKubernetesButNotItsMonitor() {
        String container = "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + POD
                + ".slice/crio-" + ID + ".scope\n";
        assertThat(Container.inCgroups(container)).contains(new Container("cri-o", ID));
        String conmon = "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + POD
                + ".slice/crio-conmon-" + ID + ".scope\n";
        assertThat(Container.inCgroups(conmon)).isEmpty();
    }

    @Test
    void podmanRootfulAndRootlessWhoseContainerNestsInItsScope() {
        assertThat(Container.inCgroups("0::/machine.slice/libpod-" + ID + ".scope\n"))
                .contains(new Container("podman", ID));
        String rootless = "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + ID
                + ".scope/container\n";
        assertThat(Container.inCgroups(rootless)).contains(new Container("podman", ID));
        assertThat(Container.inCgroups("0::/machine.slice/libpod-conmon-" + ID + ".scope\n")).isEmpty();
    }

    @Test
    void dockerOnCgroupV1WhereEveryControllerHasALine() {
        String cgroups = String.join("\n",
                "12:pids:/docker/" + ID,
                "11:memory:/docker/" + ID,
                "10:cpu,cpuacct:/docker/" + ID,
                "1:name=systemd:/docker/" + ID,
                "0::/system.slice/containerd.service",
                "");
        assertThat(Container.inCgroups(cgroups)).contains(new Container("docker", ID));
    }

    @Test
    void kubernetesWithTheCgroupfsDriverSaysNoRuntime() {
        assertThat(Container.inCgroups("0::/kubepods/burstable/pod" + POD.replace('_', '-') + "/" + ID + "\n"))
                .contains(new Container("kubernetes", ID));
    }

    @Test
    void aProcessOutsideContainersHasNone() {
        assertThat(Container.inCgroups("0::/user.slice/user-0.slice/session-3.scope\n")).isEmpty();
        assertThat(Container.inCgroups("0::/system.slice/docker.service\n")).as("the daemon itself").isEmpty();
        assertThat(Container.inCgroups("0::/\n")).isEmpty();
        assertThat(Container.inCgroups("")).isEmpty();
        assertThat(Container.inCgroups("0::/system.slice/" + ID + ".service\n"))
                .as("a 64-hex name alone is no container").isEmpty();
    }

    @Test
    void thisProcessIsReadFromProc() {
        Optional<Container> ours = Container.ofProcess((int) ProcessHandle.current().pid());
        // Whatever this machine is, reading works and agrees with the parser over the same text.
        assertThat(ours).isEqualTo(Container.inCgroups(read("/proc/self/cgroup")));
        assertThat(Container.ofProcess(Integer.MAX_VALUE)).as("no such process").isEmpty();
    }

    private static String read(String file) {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of(file));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
