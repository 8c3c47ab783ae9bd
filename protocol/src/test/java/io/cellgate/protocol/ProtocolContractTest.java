package io.cellgate.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The protocol's contract, kept by buf (src/main/proto/buf.yaml says which rules and why): the .proto
 * files pass {@code buf lint}, and {@code buf breaking} finds nothing a released client or peer would
 * notice against the image of the last release ({@code released/cellgate-v1.binpb}). buf comes from
 * npm ({@code @bufbuild/buf}); bin/test installs it and names it in {@code CELLGATE_BUF}.
 */
class ProtocolContractTest {
    private static final Path PROTO = Path.of("src/main/proto");
    private static final Path RELEASED = Path.of("released/cellgate-v1.binpb");

    @Test
    void theProtoFilesPassLint() throws Exception {
        Outcome o = buf("lint");
        assertThat(o.output()).as("buf lint").isEmpty();
        assertThat(o.exit()).as("buf lint exit (%s)", o.output()).isZero();
    }

    @Test
    void nothingBreaksAgainstTheLastRelease() throws Exception {
        assertThat(RELEASED).as("the last release's image").isRegularFile();
        Outcome o = buf("breaking", "--against", RELEASED.toAbsolutePath().toString());
        assertThat(o.output()).as("buf breaking").isEmpty();
        assertThat(o.exit()).as("buf breaking exit (%s)", o.output()).isZero();
    }

    @Test
    void breakingCatchesAChangedFieldType(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // The check can fail: a copy of the files with Login.uid turned into a string breaks the wire.
        copy(PROTO, dir);
        Path client = dir.resolve("cellgate/v1/client.proto");
        String text = Files.readString(client);
        assertThat(text).contains("uint64 uid = 1;");
        Files.writeString(client, text.replace("uint64 uid = 1;", "string uid = 1;"));
        Outcome o = run(dir, List.of(buf(), "breaking", "--against", RELEASED.toAbsolutePath().toString()));
        assertThat(o.exit()).isNotZero();
        assertThat(o.output()).contains("\"uid\"").contains("changed type");
    }

    private record Outcome(int exit, String output) {
    }

    private static Outcome buf(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(buf());
        command.addAll(List.of(args));
        return run(PROTO, command);
    }

    private static Outcome run(Path dir, List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not finish within 60 s");
        }
        return new Outcome(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }

    /** buf: CELLGATE_BUF (bin/test sets it), else on the PATH; fails naming how to get it. */
    private static String buf() {
        String named = System.getenv("CELLGATE_BUF");
        if (named != null && Files.isExecutable(Path.of(named))) {
            return named;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "buf"))) {
                return Path.of(dir, "buf").toString();
            }
        }
        throw new AssertionError("buf not found: run bin/test (it installs @bufbuild/buf from npm), or set CELLGATE_BUF to a buf binary");
    }

    private static void copy(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }
}
