package dev.eventloopguardian.jvm;

/** A JVM that installs the guardian and says how it went: for a test that runs it without privileges. */
public final class InstallProbe {
    private InstallProbe() {
    }

    public static void main(String[] args) {
        try (EventLoopGuardian guardian = EventLoopGuardian.builder().install()) {
            System.out.println("installed");
        } catch (GuardianException e) {
            System.out.println(e.getMessage());
            System.exit(3);
        }
    }
}
