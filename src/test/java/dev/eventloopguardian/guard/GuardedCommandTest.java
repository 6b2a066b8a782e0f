package dev.eventloopguardian.guard;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class GuardedCommandTest {
    @TempDir
    Path dir;

    private GuardedCommand script(String firstLine) throws Exception {
        Path path = dir.resolve("cmd" + firstLine.hashCode());
        Files.writeString(path, firstLine + "\nexit 0\n");
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        return GuardedCommand.of(List.of(path.toString()), Optional.empty());
    }

    @Test
    void notesThatAShellInFrontOfTheProgramIsGuardedToo() throws Exception {
        assertThat(script("#!/usr/bin/env bash").shellScriptNote()).hasValueSatisfying(note -> assertThat(note)
                .contains("bash script", "wait4", "pyenv which python3"));
        assertThat(script("#!/bin/sh -e").shellScriptNote()).hasValueSatisfying(note -> assertThat(note).contains("sh script"));
        assertThat(script("#!/usr/bin/env -S bash -e").shellScriptNote()).isPresent();
    }

    @Test
    void saysNothingForInterpretersThatAreTheProgramItself() throws Exception {
        assertThat(script("#!/usr/bin/python3").shellScriptNote()).isEmpty();
        assertThat(script("#!/usr/bin/env node").shellScriptNote()).isEmpty();
        assertThat(GuardedCommand.of(List.of("/bin/true"), Optional.empty()).shellScriptNote()).isEmpty();
    }
}
