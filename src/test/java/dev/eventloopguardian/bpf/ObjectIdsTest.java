package dev.eventloopguardian.bpf;

import dev.eventloopguardian.testing.HeldObjects;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

@KernelTest(needs = {Feature.PERF_EVENT_PROGRAM, Feature.ARRAY_MAP})
class ObjectIdsTest {
    @Test
    void anIdNamesAProgramOrMapUntilTheKernelFreesIt() throws Exception {
        int programId;
        int mapId;
        try (BpfMap map = BpfMap.create(MapType.ARRAY, "elg_t_ids", 4, 8, 1);
             LoadedProgram program = LoadedProgram.load(ProgramType.PERF_EVENT, "elg_t_ids",
                     new Assembler().loadMapFd(Reg.R1, map.fd()).mov(Reg.R0, 0).exit().assemble())) {
            programId = program.info().id();
            mapId = mapIdOf(map);
            assertThat(ObjectIds.programExists(programId)).isTrue();
            assertThat(ObjectIds.mapExists(mapId)).isTrue();
        }
        assertThat(new HeldObjects(Set.of(programId), Set.of(mapId), 0).stillInTheKernel()).as("after close").isEmpty();
    }

    private static int mapIdOf(BpfMap map) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + map.fd()))) {
            if (line.startsWith("map_id:")) {
                return Integer.parseInt(line.substring("map_id:".length()).strip());
            }
        }
        throw new AssertionError("no map_id in the fdinfo of " + map);
    }

    @Test
    void anIdNoObjectHasIsNotFound() throws Exception {
        assertThat(ObjectIds.programExists(Integer.MAX_VALUE)).isFalse();
        assertThat(ObjectIds.mapExists(Integer.MAX_VALUE)).isFalse();
    }
}
