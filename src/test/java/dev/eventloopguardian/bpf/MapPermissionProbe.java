package dev.eventloopguardian.bpf;

/** Run as an unprivileged user by {@link BpfMapTest}: tries to create a map and says how it failed. */
public final class MapPermissionProbe {
    private MapPermissionProbe() {
    }

    public static void main(String[] args) {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, "elg_t_denied", 0, 0, 4096)) {
            System.out.println("created " + map);
        } catch (BpfException e) {
            System.out.println("permissionDenied=" + e.isPermissionDenied() + " errno=" + e.errno());
            System.out.println(e.getMessage());
        }
    }
}
