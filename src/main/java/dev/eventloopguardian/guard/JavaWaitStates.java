package dev.eventloopguardian.guard;

/**
 * How the running JVM numbers the HotSpot {@code OSThread} states of Java-level waits: set
 * before a contended {@code synchronized} ({@code monitorWait}), a sleep, a park or a wait of the
 * VM's own monitors ({@code condvarWait}), and an {@code Object.wait} ({@code objectWait}).
 */
public record JavaWaitStates(int monitorWait, int condvarWait, int objectWait) {
}
