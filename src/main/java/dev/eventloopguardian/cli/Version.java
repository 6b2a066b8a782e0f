package dev.eventloopguardian.cli;

import picocli.CommandLine;

/** Prints the version from the jar manifest (set by the build), or "development" when run from classes. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Version.class.getPackage().getImplementationVersion();
        return new String[] {"eventloop-guardian " + (version == null ? "development" : version),
                "Java " + Runtime.version() + " on " + System.getProperty("os.name") + " " + System.getProperty("os.version")
                        + " " + System.getProperty("os.arch")};
    }
}
