package dev.eventloopguardian.bpf;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

@KernelTest(needs = {Feature.HASH_MAP, Feature.ARRAY_MAP, Feature.RINGBUF})
class BpfMapTest {
    private static byte[] u32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }

    private static byte[] u64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(value).array();
    }

    @Test
    void anArrayStartsZeroedAndRoundTripsValuesAsBytesAndAsLongs() throws Exception {
        try (BpfMap array = BpfMap.create(MapType.ARRAY, "elg_t_array", 4, 8, 4)) {
            assertThat(array.fd()).isGreaterThan(2);
            for (int i = 0; i < 4; i++) {
                assertThat(array.lookupLong(i)).isZero();
            }
            array.updateLong(2, 0x1122_3344_5566_7788L);
            assertThat(array.lookupLong(2)).isEqualTo(0x1122_3344_5566_7788L);
            assertThat(array.lookup(u32(2))).contains(u64(0x1122_3344_5566_7788L));
            array.update(u32(3), u64(-1));
            assertThat(array.lookupLong(3)).isEqualTo(-1);
            assertThat(array.lookupLong(1)).isZero();
            assertThat(array.lookup(u32(4))).as("past the end").isEmpty();
            assertThatThrownBy(() -> array.lookupLong(4)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("has 4 elements");
        }
    }

    @Test
    void aHashHoldsOnlyWhatWasPutInAndReplacesOnUpdate() throws Exception {
        try (BpfMap hash = BpfMap.create(MapType.HASH, "elg_t_hash", 8, 16, 16)) {
            byte[] key = u64(4242);
            byte[] first = "sixteen bytes #1".getBytes(StandardCharsets.US_ASCII);
            byte[] second = "sixteen bytes #2".getBytes(StandardCharsets.US_ASCII);
            assertThat(hash.lookup(key)).isEmpty();
            hash.update(key, first);
            assertThat(hash.lookup(key)).contains(first);
            hash.update(key, second);
            assertThat(hash.lookup(key)).contains(second);
            assertThat(hash.lookup(u64(4243))).isEmpty();
            assertThat(hash.delete(key)).isTrue();
            assertThat(hash.lookup(key)).isEmpty();
            assertThat(hash.delete(key)).as("already gone").isFalse();
            assertThatThrownBy(() -> hash.lookupLong(0)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("not an array of u64");
        }
    }

    @Test
    void keysAndValuesOfTheWrongLengthNeverReachTheKernel() throws Exception {
        try (BpfMap hash = BpfMap.create(MapType.HASH, "elg_t_hash", 8, 16, 16)) {
            assertThatThrownBy(() -> hash.lookup(new byte[4])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("the key must be 8 bytes, not 4");
            assertThatThrownBy(() -> hash.update(new byte[8], new byte[17])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("the value must be 16 bytes, not 17");
        }
    }

    @Test
    void aPerCpuArrayIsCreatedButItsValuesAreNotCopiedThroughOneValuesMemory() throws Exception {
        // The kernel would write a value per possible CPU where we hold room for one.
        try (BpfMap scratch = BpfMap.create(MapType.PERCPU_ARRAY, "elg_t_percpu", 4, 888, 1)) {
            assertThat(scratch.fd()).isGreaterThan(2);
            assertThatThrownBy(() -> scratch.lookup(new byte[4])).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("per-CPU");
            assertThatThrownBy(() -> scratch.update(new byte[4], new byte[888])).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Test
    void aRingBufferIsCreatedWithItsSizeAndHasNoElements() throws Exception {
        try (BpfMap ring = BpfMap.create(MapType.RINGBUF, "elg_t_ring", 0, 0, 1 << 20)) {
            assertThat(ring.maxEntries()).isEqualTo(1 << 20);
            assertThatThrownBy(() -> ring.lookup(new byte[0])).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("read it with RingBuffer");
        }
    }

    @Test
    void closingTwiceClosesOnce() throws Exception {
        BpfMap first = BpfMap.create(MapType.ARRAY, "elg_t_close", 4, 8, 1);
        first.close();
        try (BpfMap second = BpfMap.create(MapType.ARRAY, "elg_t_close", 4, 8, 1)) {
            assertThat(second.fd()).isEqualTo(first.fd()); // the lowest free number is reused
            first.close();
            assertThat(second.lookupLong(0)).as("the second map's descriptor is still open").isZero();
        }
    }

    @Test
    void withoutPrivilegesTheFailureSaysPermissionDenied(@TempDir Path scratch) throws Exception {
        // 1 or 2 (the default on most distributions) closes bpf(2) to users without CAP_BPF;
        // at 0 they may create ring buffers and arrays, so there is no refusal to see.
        assumeThat(Files.readString(Path.of("/proc/sys/kernel/unprivileged_bpf_disabled")).strip())
                .as("kernel.unprivileged_bpf_disabled").isNotEqualTo("0");
        String classPath = Guardian.worldReadableClassPath(scratch,
                List.of(BpfMap.class.getName(), MapPermissionProbe.class.getName()));
        List<String> command = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--", ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-cp", classPath,
                MapPermissionProbe.class.getName());
        String output = run(command, scratch.resolve("probe.out"));
        assertThat(output).contains("permissionDenied=true errno=1",
                "cannot create RINGBUF map 'elg_t_denied': bpf(BPF_MAP_CREATE): EPERM");
    }

    private static String run(List<String> command, Path output) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return Files.readString(output);
    }
}
